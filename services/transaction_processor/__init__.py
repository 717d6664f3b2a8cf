"""Lambda behind `POST /transactions`: validate, score, store once, alert."""
