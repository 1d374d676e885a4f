"""The API v1 of calendar feeds and the CSV export, with the secret calendar URLs."""
