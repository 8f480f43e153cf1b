"""Writes for subjects, scans and showcase values (imports, withdrawal)."""
