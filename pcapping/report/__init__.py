"""Reports: events and statistics in, text and JSON out (all rounding lives here)."""
