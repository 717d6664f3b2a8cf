"""Scheduled Lambda: reads the last few minutes of transactions and alerts on patterns across them."""
