"""The API v1 of the deadline watch: the caller's subscriptions and alerts."""
