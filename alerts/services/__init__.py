"""Writes of the deadline watch: the scan, subscriptions and the alert outbox."""
