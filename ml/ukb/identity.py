"""Whose images an archive holds: the patient and study identity of its DICOM members.

An archive is imported under the eid of its file name, so its members must show that they belong
there: every member is an MR image (Modality ``MR``), all members share one StudyInstanceUID, one
PatientID and, where present, one PatientName; and the PatientID is the eid of the file name. A member
that disagrees rejects the whole archive, naming that member: a renamed copy of another participant's
archive, a slice of another patient or a foreign file (a CT, another study) is never imported.

How UK Biobank's headers carry the eid (what public sources show):

- UK Biobank pseudonymises every dataset per application ("Each dataset supplied by UK Biobank is
  pseudonymised according to a unique Application specific scheme", Showcase help on bridging,
  https://biobank.ctsu.ox.ac.uk/crystal/help.cgi?cd=bridging), so the eid of one application is not
  the eid of another, and a scanner's own patient ID would be neither.
- The public readers of 20201 zips take the eid from the file name and never read PatientID or
  PatientName: Bai's ukbb_cardiac (``data/download_data_ukbb_general.py``: eids from the basket's
  ``eid`` column, files grouped by the manifest's ``series discription`` and ``filename``), Langner's mri-biometry
  (``dicomToProjection/convertDicoms.py``: ``subject_id = basename.split("_")[0]``) and ukb_mimir
  (``compressDicom.py``), the Broad's ml4h (``ml4h/applications/ingest/ingest_mri.py``:
  ``_sample_id_from_path`` "assumes naming format is {sample_id}_other_stuff"; it keeps Patient's
  Name as a column but stores the file name's id as ``ukbid``) and Windsor's UK Biobank DXA/MRI
  preprocessing (``utils.py``). The manifest inside each zip has a ``patientid`` column.
- So no public code shows the value of PatientID / PatientName in the bulk deliveries. That they carry
  the application's eid is the working assumption (``eid_in_headers=True``, the default, and what the
  synthetic generator writes): an archive whose headers say otherwise is refused, with a reason that
  names the setting. A site whose headers carry no eid (or another pseudonym) turns the comparison with
  the file name off (``UKB_ARCHIVE_EID_IN_HEADERS=0``); the modality, one-study and one-patient checks
  across members still apply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .archive import ArchiveError

SETTING_HINT = "set UKB_ARCHIVE_EID_IN_HEADERS=0 if this site's DICOM headers do not carry the eid"


@dataclass(frozen=True)
class MemberIdentity:
    """Who and which examination one DICOM member says it shows."""

    member: str
    modality: str
    patient_id: str
    patient_name: str
    study_uid: str

    @classmethod
    def from_dataset(cls, member: str, ds) -> MemberIdentity:
        def text(keyword: str) -> str:
            return str(ds.get(keyword, "") or "").strip()

        return cls(member, text("Modality").upper(), text("PatientID"), text("PatientName"),
                   text("StudyInstanceUID"))


def check_member(archive: str | Path, identity: MemberIdentity, eid: int, eid_in_headers: bool) -> None:
    """Checks that need one member only: an MR image of a known study, of this eid if headers carry it."""
    def reject(reason: str) -> None:
        raise ArchiveError(archive, reason, member=identity.member)

    if identity.modality != "MR":
        reject(f"Modality is {identity.modality or 'missing'}, not MR: not an image of this MR examination")
    if not identity.study_uid:
        reject("DICOM file has no StudyInstanceUID")
    if eid_in_headers and not _is_eid(identity.patient_id, eid):
        reject(f"PatientID {identity.patient_id!r} in the DICOM header is not the eid {eid} "
               f"of the file name ({SETTING_HINT})")


def check_consistent(archive: str | Path, identities: list[MemberIdentity]) -> None:
    """All members share one StudyInstanceUID, one PatientID and one PatientName (where present)."""
    for label, attribute in (("PatientID", "patient_id"), ("PatientName", "patient_name"),
                             ("StudyInstanceUID", "study_uid")):
        present = [(i.member, getattr(i, attribute)) for i in identities
                   if attribute != "patient_name" or i.patient_name]
        odd = _odd_one_out(present)
        if odd:
            member, value, usual, n_usual = odd
            raise ArchiveError(archive, f"{label} {value!r} differs from {usual!r} of the other {n_usual} "
                                        "files: the archive mixes patients or examinations", member=member)


def _odd_one_out(values: Iterable[tuple[str, str]]) -> tuple[str, str, str, int] | None:
    """The first member whose value is not the most common one, with that value and how many share it."""
    values = list(values)
    counts = Counter(value for _, value in values)
    if len(counts) < 2:
        return None
    usual, n_usual = counts.most_common(1)[0]
    member, value = next((m, v) for m, v in values if v != usual)
    return member, value, usual, n_usual


def _is_eid(value: str, eid: int) -> bool:
    return value.isascii() and value.isdigit() and int(value) == eid

