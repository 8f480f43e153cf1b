"""How hard the synthetic cohort is: measured figures of its images beside the papers' figures.

``cohort_report(folder)`` measures a cohort folder written by ``make_cohort`` (the DICOM archives read as an
importer reads them, the label files, and the phantom's tissue classes recomputed from ``cohort.json``, since
muscle, air and cortex are not labelled in files); ``scans_report(scans, seed)`` measures the generator's
in-memory scans. Both give the same figures for the same visits. Per visit (``visit_figures``):

- SNR per station, in the in-phase magnitude image: mean signal in muscle (eroded one voxel in-plane) over
  the noise SD of background air (eroded three voxels in-plane: off the body and the field's edge). Magnitude
  noise in air is Rayleigh distributed, so the SD of the underlying Gaussian noise is estimated with the Rician
  correction sigma = mean(background) / sqrt(pi / 2); sigma = SD(background) / 0.655 is kept as a cross-check
  (the two agree for pure Rayleigh noise and part where the background holds ghosts or varying noise).
- Liver FF heterogeneity: SD and IQR (percentage points) of the voxelwise FF = F / (F + W) of the fused
  volume (``ml.imaging.fusion``, as the pipeline fuses) inside the liver label eroded by one voxel.
- Liver image FF vs true PDFF: the median of those voxels (the atlas' readout) minus the true PDFF.
- Femoral diaphysis marrow voxels per slice (label slices with voxels) and the cortical thickness around it
  in voxels (area-equivalent radii of marrow and marrow plus its cortex, phantom cortex class).
- Label volumes (voxels on each region's slab grid) and the Dice of the label files against the phantom.
- Station seams: mean F + W of the upper station over that of the lower one, both resampled at the same
  fused-grid positions inside their overlap, over voxels above the Otsu threshold of the two (where the body
  changes fast along z, the coarser station's linear interpolation alone moves the ratio by up to ~1 %).

Visits with a fault that alters the kept images (``EXCLUDED_FAULTS``) are left out and listed. ``FIGURES``
names each cohort figure with its published counterpart (or "no published figure") and the range the
current generator gives (``expected_range``); a harder generator updates those ranges. No Django here.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu

from ml.imaging.fusion import FusedGrid, fuse, fused_grid, resample_station
from ml.imaging.maps import fractions
from ml.imaging.volumes import StationVolume, load_stations
from ml.synthetic.anatomy import tissue_map
from ml.synthetic.geometry import Grid
from ml.synthetic.population import Visit, make_population
from ml.synthetic.scan import Scan, body_of, station_body, true_liver_mask
from ml.synthetic.skeleton import implant
from ml.synthetic.tissues import REGION_STATION, REGION_TISSUE, Tissue
from ml.ukb.inventory import inventory_archive

from .realism_figures import FIGURE_BY_KEY, FIGURES, SEAMS, expected_range

RAYLEIGH_MEAN = math.sqrt(math.pi / 2)  # mean of magnitude noise in air / sigma
RAYLEIGH_SD = math.sqrt(2 - math.pi / 2)  # SD of magnitude noise in air / sigma (0.655)
AIR_MARGIN_VOXELS = 3
CORTEX_SEARCH_VOXELS = 6  # the shaft's cortex lies within this many voxels of its marrow
EXCLUDED_FAULTS = ("water_fat_swap", "noise", "metal", "missing_station", "region_outside_slab")
_IN_PLANE = np.zeros((3, 3, 3), bool)
_IN_PLANE[1] = ndimage.generate_binary_structure(2, 1)


# --- estimators --------------------------------------------------------------------------------------------

def rician_noise_sd(background: np.ndarray) -> tuple[float, float]:
    """Gaussian noise SD from magnitude background voxels: (from their mean, from their SD)."""
    values = np.asarray(background, np.float64)
    return float(values.mean() / RAYLEIGH_MEAN), float(values.std() / RAYLEIGH_SD)


def snr(signal: np.ndarray, background: np.ndarray) -> float:
    """Mean of the tissue voxels over the Rician-corrected noise SD of the background voxels."""
    return float(np.mean(signal, dtype=np.float64) / rician_noise_sd(background)[0])


def dice(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a) > 0, np.asarray(b) > 0
    total = int(a.sum() + b.sum())
    return 1.0 if total == 0 else 2 * int((a & b).sum()) / total


def spread(values: np.ndarray) -> dict[str, float]:
    """Median, SD and interquartile range of ``values``."""
    q1, median, q3 = np.percentile(values, [25, 50, 75])
    return {"median": float(median), "sd": float(np.std(values)), "iqr": float(q3 - q1), "voxels": int(values.size)}


def per_slice_counts(mask: np.ndarray) -> np.ndarray:
    """Voxels of a (z, y, x) mask in each slice that has any."""
    counts = np.asarray(mask > 0).sum(axis=(1, 2))
    return counts[counts > 0]


def cortex_thickness(marrow: np.ndarray, cortex: np.ndarray) -> float:
    """Cortical thickness around a 2D marrow mask in voxels: the area-equivalent radius of marrow plus the
    cortex next to it (within ``CORTEX_SEARCH_VOXELS``) minus that of the marrow."""
    near = ndimage.binary_dilation(marrow, iterations=CORTEX_SEARCH_VOXELS)
    inner, outer = marrow.sum(), marrow.sum() + (cortex & near & ~marrow).sum()
    return float(math.sqrt(outer / math.pi) - math.sqrt(inner / math.pi))


def _erode_in_plane(mask: np.ndarray, iterations: int = 1) -> np.ndarray:
    return ndimage.binary_erosion(mask, _IN_PLANE, iterations=iterations)


# --- the images of one visit -------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class StationImages:
    """One station: fat and water (``volume``), the in-phase echo and the phantom's tissue codes, (z, y, x)."""

    volume: StationVolume
    in_phase: np.ndarray
    tissue: np.ndarray


@dataclass(frozen=True, eq=False)
class VisitImages:
    visit: Visit
    seed: int
    stations: dict[int, StationImages]
    labels: dict[str, np.ndarray]  # region -> mask: liver on the fused grid, the others on their station


def _grid(volume: StationVolume) -> Grid:
    dz = float(volume.z[0] - volume.z[-1]) / max(len(volume.z) - 1, 1)
    return Grid(volume.x, volume.y, volume.z, (dz, volume.dy, volume.dx))


def _phantom(visit: Visit, seed: int):
    body = body_of(visit, seed)
    side = visit.faults.metal_side
    return body, (implant(body, side) if side else None)


def _station_images(visit: Visit, seed: int, volumes: dict[int, StationVolume],
                    in_phase: dict[int, np.ndarray]) -> dict[int, StationImages]:
    body, metal = _phantom(visit, seed)
    return {n: StationImages(v, in_phase[n], tissue_map(_grid(v), station_body(body, visit, seed, n), metal))
            for n, v in volumes.items()}


def images_of_scan(scan: Scan, seed: int) -> VisitImages:
    """The generator's in-memory scan: the correct run of every acquired station, and its labels."""
    volumes, in_phase = {}, {}
    for run in scan.runs:
        if run.acquisition.correct:
            n, grid = run.acquisition.station, run.grid
            volumes[n] = StationVolume(n, run.series["F"].astype(np.float32), run.series["W"].astype(np.float32),
                                       grid.z, float(grid.x[0]), float(grid.y[0]), grid.spacing[2], grid.spacing[1])
            in_phase[n] = run.series["in"].astype(np.float32)
    labels = {region: mask for region, (mask, _) in scan.labels.items()}
    return VisitImages(scan.visit, seed, _station_images(scan.visit, seed, volumes, in_phase), labels)


def images_of_archive(archive: Path, labels_dir: Path, visit: Visit, seed: int) -> VisitImages:
    """A stored archive read as the importer and pipeline read it (inventory, then fat and water; the in- and
    opposed-phase echoes are read by the same reader, handed in the fat and water slots), and its label files."""
    inventory = inventory_archive(archive)
    stations, index = inventory.stations_json()["stations"], inventory.series_members()
    volumes = {int(n): v for n, v in load_stations(archive, stations, index).items()}
    echoes = load_stations(archive, {n: {"F": s["in"], "W": s["opp"]} for n, s in stations.items()
                                     if "in" in s and "opp" in s}, index)
    in_phase = {int(n): v.fat for n, v in echoes.items()}
    labels = {path.name.removesuffix(".nii.gz"): np.asarray(nib.load(path).dataobj).transpose(2, 1, 0) > 0
              for path in sorted(labels_dir.glob("*.nii.gz"))}
    volumes = {n: v for n, v in volumes.items() if n in in_phase}
    return VisitImages(visit, seed, _station_images(visit, seed, volumes, in_phase), labels)


# --- figures of one visit ----------------------------------------------------------------------------------

def station_snr(station: StationImages) -> dict[str, float]:
    muscle = _erode_in_plane(station.tissue == Tissue.MUSCLE)
    air = _erode_in_plane(station.tissue == Tissue.AIR, AIR_MARGIN_VOXELS)
    background = station.in_phase[air]
    from_mean, from_sd = rician_noise_sd(background)
    return {"snr": snr(station.in_phase[muscle], background), "signal": float(station.in_phase[muscle].mean()),
            "noise_sd_from_mean": from_mean, "noise_sd_from_sd": from_sd}


def liver_figures(images: VisitImages, volumes: dict[int, StationVolume], grid: FusedGrid) -> dict[str, float]:
    label = images.labels.get("liver")
    if label is None or label.shape != grid.shape or not label.any():
        return {}
    fat, water = fuse(volumes, grid)
    ff = 100 * fractions(fat, water)[0]
    figures = spread(ff[ndimage.binary_erosion(label)])
    figures["image_minus_true"] = figures["median"] - images.visit.liver_ff_true
    figures["image_minus_generated"] = figures["median"] - images.visit.liver_ff_image
    return figures


def diaphysis_figures(images: VisitImages) -> dict[str, float]:
    label, station = images.labels.get("diaphysis"), images.stations.get(REGION_STATION["diaphysis"])
    if label is None or station is None or not label.any():
        return {}
    counts = per_slice_counts(label)
    cortex = station.tissue == Tissue.CORTEX
    thickness = [cortex_thickness(label[k] > 0, cortex[k]) for k in np.flatnonzero(label.any(axis=(1, 2)))]
    return {"per_slice_median": float(np.median(counts)), "per_slice_min": int(counts.min()),
            "per_slice_max": int(counts.max()), "slices": int(counts.size),
            "cortex_voxels": float(np.median(thickness))}


def label_dice(images: VisitImages, grid: FusedGrid) -> dict[str, float]:
    """Dice of each label against the phantom's tissue (the liver inside its bounding box on the fused grid,
    and nothing outside it)."""
    scores = {}
    for region, station in REGION_STATION.items():
        if region in images.labels and station in images.stations:
            scores[region] = dice(images.labels[region], images.stations[station].tissue == REGION_TISSUE[region])
    label = images.labels.get("liver")
    if label is not None and label.shape == grid.shape:
        scores["liver"] = dice(label, true_liver_mask(images.visit, images.seed, grid.scale)[0])
    return scores


def seam_ratio(upper: StationVolume, lower: StationVolume, grid: FusedGrid) -> float | None:
    """Mean F + W of ``upper`` over that of ``lower`` at the fused-grid voxels both cover (None: no overlap)."""
    z = grid.z[(grid.z <= min(upper.z[0], lower.z[0])) & (grid.z >= max(upper.z[-1], lower.z[-1]))]
    if z.size == 0:
        return None
    (a, covered_a), (b, covered_b) = resample_station(upper, grid, z), resample_station(lower, grid, z)
    signal_a, signal_b = a.sum(axis=0), b.sum(axis=0)
    both = ((covered_a * covered_b) > 0)[None] & np.ones(signal_a.shape, bool)
    body = both & ((signal_a + signal_b) / 2 > threshold_otsu((signal_a + signal_b)[both] / 2))
    return float(signal_a[body].mean() / signal_b[body].mean())


def visit_figures(images: VisitImages) -> dict:
    """Every per-visit figure (JSON-ready)."""
    visit = images.visit
    volumes = {n: s.volume for n, s in images.stations.items()}
    grid = fused_grid(volumes)
    seams = {f"{a}/{b}": seam_ratio(volumes[a], volumes[b], grid) for a, b in SEAMS if a in volumes and b in volumes}
    return {
        "visit": visit.name, "eid": visit.subject.eid, "bmi": visit.subject.bmi,
        "liver_ff_true": visit.liver_ff_true, "liver_ff_generated": visit.liver_ff_image,
        "snr": {str(n): station_snr(s) for n, s in sorted(images.stations.items())},
        "liver_ff": liver_figures(images, volumes, grid),
        "diaphysis": diaphysis_figures(images),
        "volumes": {region: int(np.count_nonzero(mask)) for region, mask in sorted(images.labels.items())},
        "dice": label_dice(images, grid),
        "seams": {name: ratio for name, ratio in seams.items() if ratio is not None},
    }


# --- the cohort --------------------------------------------------------------------------------------------

def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _median(values: Iterable[float]) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.median(values)) if values else None


def cohort_figures(visits: list[dict]) -> dict[str, float | None]:
    """The cohort figures from the per-visit figures."""
    liver = [v["liver_ff"] for v in visits if v["liver_ff"]]
    marrow = [v["diaphysis"] for v in visits if v["diaphysis"]]
    bias = [one["image_minus_true"] for one in liver]
    values = {f"snr_station_{n}": _median(v["snr"][str(n)]["snr"] for v in visits if str(n) in v["snr"])
              for n in range(1, 7)}
    values.update({
        "liver_ff_sd": _median(one["sd"] for one in liver), "liver_ff_iqr": _median(one["iqr"] for one in liver),
        "diaphysis_voxels_per_slice": _median(one["per_slice_median"] for one in marrow),
        "diaphysis_voxels_per_slice_min": min((one["per_slice_min"] for one in marrow), default=None),
        "diaphysis_voxels_per_slice_max": max((one["per_slice_max"] for one in marrow), default=None),
        "diaphysis_cortex_voxels": _median(one["cortex_voxels"] for one in marrow),
        "liver_ff_bias": float(np.mean(bias)) if bias else None,
        "liver_ff_difference_sd": float(np.std(bias, ddof=1)) if len(bias) > 1 else None,
        "liver_ff_readout_error": max((abs(one["image_minus_generated"]) for one in liver), default=None),
    })
    values.update({f"volume_{r}": _median(v["volumes"].get(r) for v in visits) for r in REGION_STATION})
    values.update({f"label_dice_{r}": min((v["dice"][r] for v in visits if r in v["dice"]), default=None)
                   for r in REGION_TISSUE})
    seams = {f"seam_{a}_{b}": _median(v["seams"].get(f"{a}/{b}") for v in visits) for a, b in SEAMS}
    values.update(seams)
    values["seam_max_deviation"] = max((abs(v - 1) for v in seams.values() if v is not None), default=None)
    bmi = [v["bmi"] for v in visits]
    values.update({"bmi_min": min(bmi, default=None), "bmi_median": _median(bmi), "bmi_max": max(bmi, default=None)})
    return values


@dataclass
class RealismReport:
    scale: float
    figures: dict[str, float | None]
    visits: list[dict]
    excluded: list[str] = field(default_factory=list)
    published_bias: float | None = None  # the 0.9x - 0.8 fit's bias at these subjects' true PDFF

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(figure, synthetic, published, note) per figure; the note adds the expected range at this scale."""
        rows = []
        for figure in FIGURES:
            value = self.figures.get(figure.key)
            low, high = expected_range(figure.key, self.scale)
            published = figure.published
            if figure.key == "liver_ff_bias" and self.published_bias is not None:
                published = f"{self.published_bias:+.2f} here ({published})"
            note = "; ".join(filter(None, [figure.note, f"expected {_cell(low)}-{_cell(high)}"]))
            rows.append((figure.label, _cell(value), published, note))
        return rows

    def table(self) -> str:
        rows = [("figure", "synthetic", "published", "note"), *self.rows()]
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
        lines.insert(1, "-|-".join("-" * w for w in widths))
        tail = f"{len(self.visits)} visits measured at scale {self.scale:g}"
        return "\n".join(lines + [tail + (f"; left out (faults): {', '.join(self.excluded)}" if self.excluded else "")])

    def as_json(self) -> dict:
        ranges = {key: list(expected_range(key, self.scale)) for key in FIGURE_BY_KEY}
        published = {f.key: f.published for f in FIGURES}
        return {"scale": self.scale, "figures": self.figures, "expected": ranges, "published": published,
                "published_bias_here": self.published_bias, "excluded": self.excluded, "visits": self.visits}

    def write_json(self, path: Path) -> Path:
        path.write_text(json.dumps(self.as_json(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return path


def excluded(visit: Visit) -> bool:
    return any(code in EXCLUDED_FAULTS for code in visit.faults.codes)


def _report(scale: float, measured: list[tuple[Visit, dict]], left_out: list[str]) -> RealismReport:
    truth = np.array([visit.liver_ff_true for visit, _ in measured])
    published = float(np.mean((truth + 0.8) / 0.9 - truth)) if truth.size else None
    visits = [figures for _, figures in measured]
    return RealismReport(scale, cohort_figures(visits), visits, left_out, published)


def scans_report(scans: Iterable[Scan], seed: int, scale: float) -> RealismReport:
    """Report on the generator's in-memory scans (one ``scan_visit`` each)."""
    measured, left_out = [], []
    for scan in scans:
        if excluded(scan.visit):
            left_out.append(scan.visit.name)
        else:
            measured.append((scan.visit, visit_figures(images_of_scan(scan, seed))))
    return _report(scale, measured, left_out)


def cohort_visits(folder: Path) -> tuple[dict, list[Visit]]:
    """The cohort's settings and its visits, drawn again from ``cohort.json`` and checked against the ground
    truth file (a folder from another generator version is refused)."""
    settings = json.loads((folder / "cohort.json").read_text(encoding="utf-8"))
    population = make_population(settings["n_subjects"], settings["seed"], settings["repeat_fraction"],
                                 settings["fault_rates"])
    with (folder / "ground_truth.csv").open(newline="", encoding="utf-8") as handle:
        truth = {row["archive"]: row for row in csv.DictReader(handle)}
    for visit in population.visits:
        row = truth.get(f"{visit.name}.zip")
        if row is None or abs(float(row["liver_ff_true"]) - visit.liver_ff_true) > 1e-3:
            raise ValueError(f"{folder}: {visit.name} does not match ground_truth.csv; was the cohort made by "
                             f"another generator version?")
    return settings, population.visits


def cohort_report(folder: str | Path) -> RealismReport:
    """Report on a cohort folder written by ``make_cohort`` (its archives, labels and cohort.json)."""
    folder = Path(folder)
    settings, visits = cohort_visits(folder)
    measured, left_out = [], []
    for visit in visits:
        if excluded(visit):
            left_out.append(visit.name)
            continue
        images = images_of_archive(folder / "archives" / f"{visit.name}.zip", folder / "labels" / visit.name,
                                   visit, settings["seed"])
        measured.append((visit, visit_figures(images)))
    return _report(float(settings["scale"]), measured, left_out)
