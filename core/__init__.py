"""Shared plumbing: code every app may use, that imports no app (the lowest layer)."""
