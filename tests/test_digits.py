"""The shipped digits data (generator/engine/digits.py) and the runtime requirements it makes possible.

* The arrays read with NumPy from ``generator/engine/data/digits.csv.gz`` equal scikit-learn's
  ``load_digits()`` exactly (scikit-learn is in the ``test`` extra only).
* The file's bytes are pinned: a different file is refused, not silently trained on.
* The project's runtime requirements (the metadata setuptools writes for this source tree, extras
  excluded) name neither scikit-learn nor SciPy, and the package data declare the data file.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import subprocess
import sys
import tomllib

import numpy as np
import pytest
from sklearn.datasets import load_digits

from generator.common.paths import ROOT
from generator.engine import digits

DATA = ROOT / "generator" / "engine" / "data"
FORBIDDEN = {"scikit-learn", "sklearn", "scipy"}


def test_shipped_digits_equal_load_digits():
    digits._digits.cache_clear()
    x, y = digits._digits()
    ref = load_digits()
    assert x.dtype == np.float64 and y.dtype == np.int64 and x.shape == (1797, 64) and y.shape == (1797,)
    np.testing.assert_array_equal(x, ref.data)
    np.testing.assert_array_equal(y, ref.target)
    assert x.tobytes() == np.ascontiguousarray(ref.data, dtype=np.float64).tobytes()  # bit for bit
    assert not x.flags.writeable and not y.flags.writeable


def test_load_reads_no_sklearn():
    code = (
        "import sys; from generator.engine import digits; digits.load(); "
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


def test_file_hash_is_pinned_and_credited(monkeypatch):
    raw = (DATA / "digits.csv.gz").read_bytes()
    assert hashlib.sha256(raw).hexdigest() == digits.SHA256
    note = (DATA / "README.md").read_text(encoding="utf-8")
    assert digits.SHA256 in note and "CC BY 4.0" in note and "10.24432/C50P49" in note
    monkeypatch.setattr(digits, "SHA256", "0" * 64)
    with pytest.raises(RuntimeError, match="sha256"):
        digits._digits_bytes()


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", requirement).group(0).lower().replace("_", "-")


def test_runtime_requirements_exclude_sklearn_and_scipy():
    """Declared (pyproject.toml) and installed (the metadata pip recorded; `make test` reinstalls whenever
    pyproject.toml changes) runtime requirements name neither scikit-learn nor SciPy; the test extra has both."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_name(r) for r in project["dependencies"]}
    assert "numpy" in declared  # the list was read (not empty)
    assert declared & FORBIDDEN == set()
    assert {"scikit-learn", "scipy"} <= {_name(r) for r in project["optional-dependencies"]["test"]}
    requires = importlib.metadata.distribution("initlab").requires or []
    installed = {_name(r) for r in requires if "extra ==" not in r}
    assert installed == declared, "the installed initlab is not this pyproject.toml's (re-run `make test`)"


def test_data_file_is_package_data():
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    declared = tool["package-data"]["generator.engine"]
    assert "data/digits.csv.gz" in declared and "data/README.md" in declared
    assert all((ROOT / "generator" / "engine" / p).is_file() for p in declared)
