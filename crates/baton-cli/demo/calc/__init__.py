"""calc: a tiny numbers library."""
