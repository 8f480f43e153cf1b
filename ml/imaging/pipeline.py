"""One scan through the image pipeline: archive in, every derived file out, with timings per stage."""

from __future__ import annotations

import json
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import hints as qc_hints
from .fusion import FusedGrid, fuse, fused_grid
from .maps import body_mask, fractions
from .network_input import NetworkInputParameters, network_input
from .nifti import save_volume, stored_signal
from .qc_images import png_bytes, projections, to_uint8
from .volumes import ImagingError, load_stations

QC_IMAGES = ("water_coronal", "fat_coronal", "water_sagittal", "fat_sagittal")


@dataclass
class PreprocessResult:
    """What was written to the output folder (names relative to it) and what was learnt on the way."""

    files: dict[str, str]
    hints: list[qc_hints.Hint]
    network_input: NetworkInputParameters
    grid: dict
    statistics: dict
    timings: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict:
        return {"files": self.files, "hints": [h.as_dict() for h in self.hints],
                "network_input": self.network_input.as_dict(), "grid": self.grid, "statistics": self.statistics,
                "timings": self.timings}


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        started = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - started, 4)


def preprocess_archive(archive: Path, stations: dict, deviations: list[dict], out_dir: Path,
                       index: dict[str, list[str]] | None = None, *,
                       keep_station_volumes: bool = False, compression: str = "small") -> PreprocessResult:
    """Fuse the scan in ``archive`` (inventory ``stations``) and write its derived files into ``out_dir``.

    Only what cannot be had more cheaply is written (about 20 MB at full scale): fused fat and water, the
    body mask, the network input and the QC pictures. The fat and water fractions are computed again from
    fat and water when read (``maps.load_fraction``); the six stations on their own grids (``station2_fat``
    ...) are in the archive and are written only with ``keep_station_volumes`` (their grids are always
    recorded in the summary). ``compression``: "small" or "fast" gzip (``nifti.COMPRESSIONS``)."""
    timer = _Timer()
    with timer.stage("read"):
        volumes = load_stations(archive, stations, index)
    if not volumes:
        raise ImagingError("no station has both a fat and a water series")
    with timer.stage("fuse"):
        grid = fused_grid(volumes)
        stored = _stored_signal(volumes, grid)
        fat, water = stored["fat"].astype(np.float32), stored["water"].astype(np.float32)
    with timer.stage("maps"):
        ff, _ = fractions(fat, water)
        mask, threshold = body_mask(fat, water)
    with timer.stage("network_input"):
        image, parameters = network_input(ff, mask, grid.scale)
    with timer.stage("hints"):
        statistics = {n: qc_hints.station_statistics(v) for n, v in volumes.items()}
        litres = float(mask.sum()) * float(np.prod(grid.spacing)) / 1e6
        found = qc_hints.order_hints(qc_hints.hints_from_deviations(deviations)
                                     + qc_hints.image_hints(volumes, grid, statistics, litres))
    files: dict[str, str] = {}
    with timer.stage("qc_images"):
        _write_qc_images(out_dir, fat, water, image, grid, files)
    with timer.stage("write_volumes"):
        _write_volumes(out_dir, grid, {**stored, "body_mask": mask}, files, compression)
        if keep_station_volumes:
            _write_station_volumes(out_dir, volumes, files, compression)
        np.save(out_dir / "network_input.npy", image)
        files["network_input_array"] = "network_input.npy"
    result = PreprocessResult(
        files=files, hints=found, network_input=parameters, grid=_grid_summary(grid, volumes),
        statistics={"body_threshold": threshold, "body_litres": round(litres, 2),
                    "stations": {str(n): {k: round(v, 4) for k, v in s.items()} for n, s in statistics.items()}},
        timings=timer.timings)
    (out_dir / "preprocess.json").write_text(json.dumps(result.summary(), indent=1))
    files["summary"] = "preprocess.json"
    return result


def _stored_signal(volumes: dict, grid: FusedGrid) -> dict[str, np.ndarray]:
    """Fused fat and water as the uint16 the files hold: every map is computed from these numbers, so the
    files alone give the same maps again (``maps.load_fraction``)."""
    fat, water = fuse(volumes, grid)
    return {"fat": stored_signal(fat), "water": stored_signal(water)}


def _write_qc_images(out_dir: Path, fat, water, image, grid: FusedGrid, files: dict) -> None:
    dz, dy, dx = grid.spacing
    shapes = {"coronal": (dz, dx), "sagittal": (dz, dy)}
    for name, projection in projections(fat, water).items():
        (out_dir / f"qc_{name}.png").write_bytes(png_bytes(to_uint8(projection), shapes[name.split("_")[1]]))
        files[f"qc_{name}"] = f"qc_{name}.png"
    (out_dir / "network_input.png").write_bytes(png_bytes(image, (1.0, 1.0)))
    files["network_input"] = "network_input.png"


def _write_volumes(out_dir: Path, grid: FusedGrid, fused: dict, files: dict, compression: str) -> None:
    kinds = {"fat": "signal", "water": "signal", "body_mask": "mask"}
    for name, volume in fused.items():
        save_volume(out_dir / f"{name}.nii.gz", volume, grid.affine_ras(), kinds[name], compression)
        files[name] = f"{name}.nii.gz"


def _write_station_volumes(out_dir: Path, volumes: dict, files: dict, compression: str) -> None:
    for number, station in volumes.items():
        for kind, volume in (("fat", station.fat), ("water", station.water)):
            name = f"station{number}_{kind}"
            save_volume(out_dir / f"{name}.nii.gz", volume, station.affine_ras(), "signal", compression)
            files[name] = f"{name}.nii.gz"


def _grid_summary(grid: FusedGrid, volumes: dict) -> dict:
    """The fused grid, and each station's own grid: the QC viewer draws the seams and a marrow label is
    checked against its slab from these, whether or not the station volumes were kept."""
    return {"shape_zyx": list(grid.shape), "spacing_zyx_mm": [round(s, 4) for s in grid.spacing],
            "first_voxel_lps_mm": [float(grid.x[0]), float(grid.y[0]), float(grid.z[0])],
            "stations": {str(n): {"shape_zyx": list(v.fat.shape), "affine_ras": v.affine_ras().tolist()}
                         for n, v in volumes.items()}}
