"""Asking questions: one reader for every answer, and questions as data."""
