"""Writes for showcase values: the basket import and its job."""
