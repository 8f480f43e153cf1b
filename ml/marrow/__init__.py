"""Bone marrow fat: 3D segmentation of four marrow regions and their fat fraction (BMFF), no Django.

- ``regions``: the four regions, their slab (station) and measurement rules;
- ``crops``: the fixed box around where a region lives in its slab, network inputs;
- ``unet`` and ``attention_unet``: a plain 3D U-Net and the paper's CBAM ROI-attention U-Net;
- ``losses``, ``training``: the paper's loss and an importable training / prediction loop;
- ``checks``: post-processing and error checks (single voxels, gaps, centre of mass, OK / Small / Empty);
- ``bmff``: fat fraction inside a mask after light smoothing and in-plane erosion.

Arrays are (z, y, x) as everywhere in ``ml.imaging``; z runs from the slab's head-most slice to its foot.
"""
