"""declare stage."""
