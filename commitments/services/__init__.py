"""Writes of the commitments domain. The admin, API, commands and tasks all call these."""
