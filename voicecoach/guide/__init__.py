"""guide package."""
