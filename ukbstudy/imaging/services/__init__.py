"""Writes for scans: archive import and preprocessing, and the jobs that run them."""
