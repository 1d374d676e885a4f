"""The API v1 of the domain: parties, sources, agreements, commitments, progress updates."""
