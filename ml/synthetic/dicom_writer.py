"""DICOM files of the synthetic archives, with the headers a Siemens Aera writes for UK Biobank Dixon.

``series_template`` builds the dataset of one series with pydicom; ``SeriesEncoder`` then writes its
files re-encoding only the per-slice elements (SOP instance UID, instance number, position, slice
location, pixel data), because running ``dcmwrite`` on ~1,300 files per archive would dominate the run
time. UIDs are derived from the cohort seed with pydicom's ``generate_uid`` under the Siemens root, so
reruns produce identical files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.tag import BaseTag, Tag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid
from pydicom.valuerep import DSfloat

from ml.synthetic.acquisition import SeriesSlot
from ml.synthetic.geometry import Grid
from ml.ukb.protocol import IMAGE_TYPE_FLAGS, STATION_BY_NUMBER, series_description

UID_ROOT = "1.3.12.2.1107.5.2.18.41754."  # Siemens root + scanner serial, as in UK Biobank files
AE_TITLE = "AWP41754"
ECHO_TIME_MS = {"opp": 2.39, "in": 4.77, "F": 2.39, "W": 2.39}
ECHO_NUMBER = {"opp": 1, "in": 2, "F": 1, "W": 1}
GROUP_LENGTH = Tag(0x0002, 0x0000)
PREAMBLE = bytes(128)
# Elements that differ between the files of one series; everything else is encoded once per series.
_SLICE_KEYWORDS = ("MediaStorageSOPInstanceUID", "SOPInstanceUID", "InstanceNumber", "ImagePositionPatient",
                   "SliceLocation", "PixelData")


@dataclass(frozen=True)
class Patient:
    """What the headers say about the participant and the study."""

    eid: int
    sex: str  # "F" or "M"
    age: int
    height_m: float
    weight_kg: float
    study_uid: str
    frame_uid: str
    started: datetime


def uid(seed: int, *parts: object) -> str:
    """A deterministic UID under the Siemens root for the given seed and parts.

    The parts are joined with a separator first: pydicom concatenates entropy sources as they are, so
    ("1", "12") and ("11", "2") would otherwise give the same UID.
    """
    return generate_uid(prefix=UID_ROOT, entropy_srcs=["|".join(map(str, (seed, *parts)))])


def _ds(value: float) -> DSfloat:
    """A decimal string that fits DICOM's 16 characters."""
    return DSfloat(float(value), auto_format=True)


def _image_type(series_type: str) -> list[str]:
    origin = "ORIGINAL" if series_type in ("in", "opp") else "DERIVED"
    return [origin, "PRIMARY", "DIXON", IMAGE_TYPE_FLAGS[series_type]]


def _clock(moment: datetime) -> str:
    return moment.strftime("%H%M%S.%f")


def _file_meta() -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.FileMetaInformationVersion = b"\x00\x01"
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "UKBSTUDY_SYNTH"
    return meta


def _patient_module(ds: Dataset, patient: Patient) -> None:
    # The eid in PatientID and PatientName, as the importer expects by default (ml/ukb/identity.py).
    ds.PatientName = str(patient.eid)
    ds.PatientID = str(patient.eid)
    ds.PatientBirthDate = ""
    ds.PatientSex = patient.sex
    ds.PatientAge = f"{patient.age:03d}Y"
    ds.PatientSize = _ds(round(patient.height_m, 2))
    ds.PatientWeight = _ds(round(patient.weight_kg, 1))
    ds.StudyInstanceUID = patient.study_uid
    ds.StudyID = "1"
    ds.StudyDescription = "UK Biobank^Body"
    ds.StudyDate = patient.started.strftime("%Y%m%d")
    ds.StudyTime = _clock(patient.started)
    ds.AccessionNumber = ""
    ds.ReferringPhysicianName = ""


def _series_module(ds: Dataset, slot: SeriesSlot, series_uid: str, started: datetime) -> None:
    station = STATION_BY_NUMBER[slot.acquisition.station]
    acquired = started + timedelta(seconds=slot.acquisition.start_s)
    ds.Modality = "MR"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = slot.number
    ds.SeriesDescription = series_description(station, slot.series_type)
    ds.ProtocolName = station.description_prefix
    ds.ImageType = _image_type(slot.series_type)
    ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = started.strftime("%Y%m%d")
    ds.SeriesTime = _clock(started + timedelta(seconds=slot.time_s))
    ds.AcquisitionTime = _clock(acquired)
    ds.ContentTime = ds.SeriesTime
    ds.AcquisitionNumber = 1


def _equipment_module(ds: Dataset, series_type: str) -> None:
    ds.Manufacturer = "SIEMENS"
    ds.ManufacturerModelName = "Aera"
    ds.StationName = AE_TITLE
    ds.InstitutionName = "UK Biobank"
    ds.MagneticFieldStrength = _ds(1.5)
    ds.ScanningSequence = "GR"
    ds.SequenceVariant = ["SP", "OSP"]
    ds.MRAcquisitionType = "3D"
    ds.RepetitionTime = _ds(6.69)
    ds.EchoTime = _ds(ECHO_TIME_MS[series_type])
    ds.EchoNumbers = ECHO_NUMBER[series_type]
    ds.FlipAngle = _ds(10)
    ds.ImagingFrequency = _ds(63.67)
    ds.ImagedNucleus = "1H"
    ds.PatientPosition = "HFS"


def _image_module(ds: Dataset, grid: Grid, frame_uid: str) -> None:
    dz, dy, dx = grid.spacing
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [_ds(dy), _ds(dx)]  # row spacing, then column spacing
    ds.SliceThickness = _ds(dz)
    ds.SpacingBetweenSlices = _ds(dz)
    ds.Rows, ds.Columns = len(grid.y), len(grid.x)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.PixelRepresentation = 0
    ds.WindowCenter, ds.WindowWidth = _ds(500), _ds(1000)


def series_template(slot: SeriesSlot, grid: Grid, patient: Patient, series_uid: str) -> Dataset:
    """The dataset of one series, with placeholder values for the per-slice elements.

    The placeholders mark where in tag order ``SeriesEncoder`` inserts each slice's own values.
    """
    ds = Dataset()
    ds.file_meta = _file_meta()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = MRImageStorage
    _patient_module(ds, patient)
    _series_module(ds, slot, series_uid, patient.started)
    _equipment_module(ds, slot.series_type)
    _image_module(ds, grid, patient.frame_uid)
    _set_slice(ds, grid, 0, np.zeros((len(grid.y), len(grid.x)), np.uint16), "1.2")
    return ds


def _slice_elements(grid: Grid, index: int, pixels: np.ndarray, sop_uid: str) -> dict[str, object]:
    """Values of the elements that differ between the files of a series."""
    z = float(grid.z[index])
    return {
        "MediaStorageSOPInstanceUID": sop_uid,
        "SOPInstanceUID": sop_uid,
        "InstanceNumber": index + 1,  # 1 = head-most slice
        "ImagePositionPatient": [_ds(grid.x[0]), _ds(grid.y[0]), _ds(z)],
        "SliceLocation": _ds(z),
        "PixelData": np.ascontiguousarray(pixels, dtype="<u2").tobytes(),
    }


def _set_slice(ds: Dataset, grid: Grid, index: int, pixels: np.ndarray, sop_uid: str) -> None:
    for keyword, value in _slice_elements(grid, index, pixels, sop_uid).items():
        target = ds.file_meta if keyword.startswith("MediaStorage") else ds
        setattr(target, keyword, value)
    ds["PixelData"].VR = "OW"


def _encode(elements: list[DataElement]) -> bytes:
    """Explicit VR little endian bytes of data elements, as pydicom writes them."""
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    for element in elements:
        write_data_element(buffer, element)
    return buffer.getvalue()


def _chunks(dataset: Dataset, varying: set[BaseTag]) -> list[bytes | BaseTag]:
    """The dataset as pre-encoded runs of constant elements, with the tags of varying ones between."""
    chunks: list[bytes | BaseTag] = []
    run: list[DataElement] = []
    for element in dataset:
        if element.tag in varying:
            chunks += [_encode(run), element.tag]
            run = []
        elif element.tag != GROUP_LENGTH:
            run.append(element)
    return chunks + [_encode(run)]


class SeriesEncoder:
    """Encodes the files of one series, writing only the per-slice elements anew.

    Writing every file with ``pydicom.dcmwrite`` costs a few milliseconds, most of it re-encoding the
    ~60 elements that are identical across the series; a full-scale archive has ~1,300 files. The
    output is byte-for-byte what ``dcmwrite(..., enforce_file_format=True)`` produces (tested).
    """

    def __init__(self, template: Dataset) -> None:
        self._vr = {tag_for_keyword(k): dictionary_VR(tag_for_keyword(k)) for k in _SLICE_KEYWORDS}
        self._vr[tag_for_keyword("PixelData")] = "OW"
        self._meta = _chunks(template.file_meta, set(self._vr))
        self._body = _chunks(template, set(self._vr))

    def _join(self, chunks: list[bytes | BaseTag], values: dict[BaseTag, object]) -> bytes:
        return b"".join(chunk if isinstance(chunk, bytes)
                        else _encode([DataElement(chunk, self._vr[chunk], values[chunk])]) for chunk in chunks)

    def encode(self, grid: Grid, index: int, pixels: np.ndarray, sop_uid: str) -> bytes:
        """Bytes of the DICOM file of slice ``index`` (0 = head-most)."""
        values = {tag_for_keyword(k): v for k, v in _slice_elements(grid, index, pixels, sop_uid).items()}
        meta = self._join(self._meta, values)
        length = _encode([DataElement(GROUP_LENGTH, "UL", len(meta))])
        return PREAMBLE + b"DICM" + length + meta + self._join(self._body, values)
