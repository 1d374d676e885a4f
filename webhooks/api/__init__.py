"""The API v1 of webhooks: the caller's endpoints and their delivery logs."""
