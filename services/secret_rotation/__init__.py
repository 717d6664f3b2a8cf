"""Secrets Manager rotation function for the API configuration secret."""
