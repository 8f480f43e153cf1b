"""Writes of the atlas app: templates (``templates``), runs over scans (``runs``), correction (``calibration``)."""
