"""Pure renderers: a table in, the exact text of LIST or DETAIL out."""
