"""Where things are: the one definition of the repository root and of its fixed source paths."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "experiments.toml"
TEMPLATES_DIR = ROOT / "templates"
STRINGS_DIR = TEMPLATES_DIR / "strings"
SITE_DIR = ROOT / "site"
ASSETS_DIR = SITE_DIR / "assets"
REFERENCE_DIR = ROOT / "reference"
BENCH_DIR = ROOT / "bench"
NOTEBOOKS_DIR = ROOT / "notebooks"  # the topic notebooks (jupytext percent .py), converted by the render stage
PRINTOUTS_CSV = REFERENCE_DIR / "seed_printouts.csv"  # the seed note's printed numbers, as quotation data
SEED_TEXT = ROOT.parent / "shared" / "seed" / "000_bcb9161ff5f72897.txt"  # the seed note (absent in a bare clone)
