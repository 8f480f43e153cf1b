"""Image and machine-learning code for ukbstudy.

Everything under ``ml`` is plain Python over NumPy arrays, DICOM and NIfTI files: it imports no Django,
so it can be tested and reused on its own. The web application (``ukbstudy``) calls it from services.
"""
