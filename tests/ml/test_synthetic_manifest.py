"""The synthetic archives' manifest, laid out as real ones: read the way two published parsers of UK
Biobank 20201 zips read theirs (baiwenjia/ukbb_cardiac by column names after dropping the date's comma;
tarolangner/mri-biometry by searching a data row for the description column), each reimplemented here in a
few lines, and checked against the DICOM headers, which are the truth."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path

import pydicom
import pytest

from ml.synthetic import make_cohort


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """The one archive of a clean one-subject cohort."""
    root = tmp_path_factory.mktemp("manifest-cohort")
    make_cohort(root, 1, seed=11, scale=0.25, fault_rates={})
    (path,) = (root / "archives").iterdir()
    return path


def manifest_of(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        manifests = [n for n in archive.namelist() if n.startswith("manifest.")]
        assert len(manifests) == 1 and manifests[0] in ("manifest.cvs", "manifest.csv")
        return archive.read(manifests[0]).decode()


def dicom_series_of_files(path: Path) -> dict[str, tuple[str, str]]:
    """(SeriesDescription, SeriesInstanceUID) of every DICOM file, from its header: the truth."""
    with zipfile.ZipFile(path) as archive:
        headers = {n: pydicom.dcmread(io.BytesIO(archive.read(n)), stop_before_pixels=True)
                   for n in archive.namelist() if n.endswith(".dcm")}
    return {n: (h.SeriesDescription, h.SeriesInstanceUID) for n, h in headers.items()}


def read_by_column_names(text: str) -> list[dict[str, str]]:
    """As ukbb_cardiac reads a manifest: drop the comma of ``Mon DD, 20YY``, then CSV rows by column name."""
    fixed = re.sub(r"([A-Z][a-z]{2}) (\d{1,2}), (20\d{2})", r"\1-\2-\3", text)
    rows = list(csv.DictReader(io.StringIO(fixed)))
    assert all(None not in row and None not in row.values() for row in rows)  # a row of another width is lost
    return rows


def read_by_description_search(text: str) -> set[str]:
    """As mri-biometry reads a manifest: the file column from the header, the description column from the
    first line holding ``Dixon_noBH_F``, both taken from every comma-split line (header too); F and W kept."""
    assert text.endswith("\n")  # it drops the piece after the last newline unread
    lines = [line for line in text.split("\n")[:-1] if line]
    file_at = next(i for i, name in enumerate(lines[0].split(",")) if "filename" in name)
    description_at = next(i for line in lines for i, cell in enumerate(line.split(",")) if "Dixon_noBH_F" in cell)
    descriptions = [line.split(",")[description_at] for line in lines]  # IndexError on a too short header
    names = [line.split(",")[file_at] for line in lines]
    return {name for name, d in zip(names, descriptions, strict=True) if "_W" in d or "_F" in d}


def test_manifest_is_read_by_column_names_as_a_real_one(archive):
    rows = read_by_column_names(manifest_of(archive))
    listed = {row["filename"]: (row["series discription"], row["seriesid"]) for row in rows}
    assert listed == dicom_series_of_files(archive)
    assert {row["patientid"] for row in rows} == {archive.name.split("_")[0]}


def test_manifest_is_read_by_description_search_as_a_real_one(archive):
    signal = {n for n, (description, _) in dicom_series_of_files(archive).items() if description[-2:] in ("_F", "_W")}
    assert len(signal) == len(dicom_series_of_files(archive)) // 2
    assert read_by_description_search(manifest_of(archive)) == signal


def test_manifest_lists_every_file_with_a_date_that_breaks_naive_csv(archive):
    lines = manifest_of(archive).splitlines()
    with zipfile.ZipFile(archive) as zipped:
        dicoms = {n for n in zipped.namelist() if n.endswith(".dcm")}
    header = lines[0].split(",")
    assert header == ["filename", "patientid", "studyid", "aetitle", "date", "time", "series discription", "seriesid"]
    assert {line.split(",")[0] for line in lines[1:]} == dicoms
    for line in lines[1:]:
        fields = line.split(",")
        assert len(fields) == len(header) + 1
        assert re.fullmatch(r"[A-Z][a-z]{2} \d{2}, \d{4}", f"{fields[4]},{fields[5]}")


def test_manifest_date_is_the_study_date(archive):
    line = manifest_of(archive).splitlines()[1].split(",")
    with zipfile.ZipFile(archive) as zipped:
        header = pydicom.dcmread(io.BytesIO(zipped.read(line[0])), stop_before_pixels=True)
    day = datetime.strptime(f"{line[4]},{line[5]}", "%b %d, %Y").strftime("%Y%m%d")
    assert day == header.StudyDate
