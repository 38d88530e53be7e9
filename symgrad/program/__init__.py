"""program stage."""
