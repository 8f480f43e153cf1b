"""Writes for participants (withdrawal)."""
