"""License identification and term extraction."""
