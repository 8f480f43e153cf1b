"""Tissue classes of the phantom and which of them form the labelled regions.

The anatomy paints one tissue code per voxel; signal intensities come from a per-visit table of
proton density and fat fraction per code (``signal.py``), and label masks are simply ``tissue == code``,
so labels and the fat fraction written into the images agree by construction.
"""

from __future__ import annotations

from enum import IntEnum


class Tissue(IntEnum):
    AIR = 0
    SUBCUTANEOUS_FAT = 1
    MUSCLE = 2
    VISCERAL_FAT = 3
    BOWEL = 4
    MEDIASTINUM = 5
    LUNG = 6
    HEART = 7
    LIVER = 8
    KIDNEY = 9
    CORTEX = 10
    DISC = 11
    CSF = 12
    SPINE_MARROW = 13  # T8-L3 vertebral bodies: the spine label
    VERTEBRA_MARROW = 14  # the other vertebrae and the sacrum
    PELVIS_MARROW = 15
    FEMORAL_HEAD = 16  # left femoral head: label
    TOTAL_HIP = 17  # left femoral neck and trochanteric region: label
    SHAFT_MARROW = 18  # left femoral shaft outside the diaphysis label
    DIAPHYSIS = 19  # left mid-shaft: label
    RIGHT_HEAD = 20
    RIGHT_HIP = 21
    RIGHT_SHAFT = 22
    EPIPHYSIS = 23  # distal femur and proximal tibia
    METAL_VOID = 24
    METAL_RIM = 25


# Tissue of every labelled region, and the station whose voxel grid carries its label (the liver is
# labelled on the fused grid instead).
REGION_TISSUE = {
    "liver": Tissue.LIVER,
    "spine": Tissue.SPINE_MARROW,
    "femoral_head": Tissue.FEMORAL_HEAD,
    "total_hip": Tissue.TOTAL_HIP,
    "diaphysis": Tissue.DIAPHYSIS,
}
REGION_STATION = {"spine": 2, "femoral_head": 4, "total_hip": 4, "diaphysis": 5}

# Where organs may be drawn: inside the body cavity (the liver pushes lungs and bowel aside).
CAVITY = (Tissue.VISCERAL_FAT, Tissue.BOWEL, Tissue.MEDIASTINUM, Tissue.LUNG)
