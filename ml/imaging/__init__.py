"""Image pipeline for neck-to-knee Dixon scans: station loading, fusion, derived maps, network input,
QC projections and automatic QC hints. Plain NumPy / pydicom / nibabel / scikit-image; no Django.

Conventions (shared with ``ml.synthetic``): patient coordinates are DICOM LPS millimetres (x to the
patient's left, y posterior, z to the head); in-memory volumes are indexed (z, y, x) with slice 0
head-most; NIfTI files store (x, y, z) = (column, row, slice) with an affine to RAS millimetres.
"""
