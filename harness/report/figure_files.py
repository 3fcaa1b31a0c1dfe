"""The page's figures as files: each drawn once under a deterministic name, embedded in the page, and
written into ``figures/`` beside it, where the stale ones of an earlier render are removed."""
from __future__ import annotations

import base64
import re
from pathlib import Path

from harness.storage.store import atomic_write_bytes

FIGURES_DIR = "figures"
FOREST_FIGURE = "summary__forest.png"
LESSON_FIGURES = ("lesson_regression_histograms.png", "lesson_circles_scatter.png",
                  "lesson_input_scaling_boxplot.png")


def safe_name(name: str) -> str:
    """``name`` as part of a file name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "_"


def ours(name: str) -> bool:
    """A figure name the report writes (only those are cleaned up as stale)."""
    return name.endswith(".png") and ("__curves_" in name or name.endswith("__metric.png")
                                      or name in LESSON_FIGURES or name == FOREST_FIGURE
                                      or name.startswith("inside_"))


class Drawn:
    """The figures of one page by file name, in the order the page shows them."""

    def __init__(self):
        self.pngs: dict[str, bytes] = {}

    def show(self, name: str, png: bytes, alt: str) -> dict:
        """Keep ``png`` as ``name``; the page's embedded copy of it (``templates/macros.html``'s figure)."""
        self.pngs[name] = png
        return {"name": name, "alt": alt, "src": "data:image/png;base64," + base64.b64encode(png).decode("ascii")}


def write_figures(drawn: Drawn, out_dir: Path) -> None:
    """``out_dir/figures/<name>`` for every figure; figures of claims no longer in the results would mislead,
    so the report's own older files are removed."""
    fig_dir = out_dir / FIGURES_DIR
    for name, png in drawn.pngs.items():
        atomic_write_bytes(fig_dir / name, png)
    if fig_dir.is_dir():
        for old in sorted(fig_dir.iterdir()):
            if old.is_file() and ours(old.name) and old.name not in drawn.pngs:
                old.unlink()
