"""Rules that turn everything a case holds into flags, and flags into a verdict."""
