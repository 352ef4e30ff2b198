"""The locked environment (requirements/runtime.txt, requirements/test.txt; `make lock`, Makefile).

* every entry of both lock files is pinned with ``==`` and carries sha256 hashes, nothing else;
* the runtime lock covers every ``[project] dependencies`` requirement and the test lock those plus the
  test extra, each at a version the requirement accepts, and each lock is closed under the dependencies
  of what it holds (read from the installed metadata);
* the test lock holds the runtime lock's versions, so a runtime venv is a test venv minus the test extra,
  and the runtime lock pulls neither scikit-learn nor SciPy;
* the running venv (`make test` installs the test lock) holds exactly the test lock: same names
  (normalised), same versions, nothing more but the project itself and the venv's own pip/setuptools;
* the Makefile installs from the lock with --require-hashes and keys its venv stamp on the lock files.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
RUNTIME = REPO / "requirements" / "runtime.txt"
TEST = REPO / "requirements" / "test.txt"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))
# What `python -m venv` puts in every venv: installers, which a lock of dependencies leaves out.
VENV_SEED = {"pip", "setuptools"}
ENTRY = re.compile(
    r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)"
)


def parse_lock(path: Path) -> dict[str, str]:
    """{normalised name: version} of a lock file; fails on any line that is not a hashed pin or a comment."""
    logical, pins = "", {}
    for raw in path.read_text("utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):  # blank, header, "# via ..." annotations
            continue
        logical += " " + line.removesuffix("\\").strip()
        if line.endswith("\\"):
            continue
        m = ENTRY.fullmatch(logical.strip())
        assert m, f"{path.name}: not a '==' pin with sha256 hashes: {logical.strip()!r}"
        name = canonicalize_name(m["name"])
        assert name not in pins, f"{path.name}: {name} listed twice"
        pins[name] = m["version"]
        logical = ""
    assert not logical, f"{path.name}: ends inside an entry"
    return pins


@pytest.fixture(scope="module")
def runtime() -> dict[str, str]:
    return parse_lock(RUNTIME)


@pytest.fixture(scope="module")
def test_lock() -> dict[str, str]:
    return parse_lock(TEST)


def test_parser_rejects_an_unhashed_or_unpinned_line(tmp_path):
    for bad in (
        "numpy==2.4.6\n",
        "numpy>=2 \\\n    --hash=sha256:" + "0" * 64 + "\n",
        "numpy==2.4.6 \\\n    --hash=md5:" + "0" * 32 + "\n",
        "-e .\n",
    ):
        (tmp_path / "lock.txt").write_text(bad)
        with pytest.raises(AssertionError):
            parse_lock(tmp_path / "lock.txt")


@pytest.mark.parametrize("path", [RUNTIME, TEST], ids=lambda p: p.name)
def test_every_entry_is_pinned_with_sha256_hashes(path):
    pins = parse_lock(path)
    assert len(pins) >= 10  # a real lock, not an empty file
    text = path.read_text("utf-8")
    assert text.count("==") == len(pins)  # no pin the parser skipped
    assert re.search(r"CPython 3\.11.*\n?.*linux x86_64", text[:400]), "the header names the lock's target"
    assert "make lock" in text[:400]


def _required(reqs: list[str]) -> list[Requirement]:
    return [Requirement(r) for r in reqs]


@pytest.mark.parametrize("which", ["runtime", "test"])
def test_lock_covers_every_requirement_of_pyproject(which, runtime, test_lock):
    project = PYPROJECT["project"]
    reqs = _required(project["dependencies"])
    if which == "test":
        reqs += _required(project["optional-dependencies"]["test"])
    pins = runtime if which == "runtime" else test_lock
    for req in reqs:
        name = canonicalize_name(req.name)
        assert name in pins, f"{req} is not in requirements/{which}.txt: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} violates {req}"


def test_test_lock_holds_the_runtime_lock_versions(runtime, test_lock):
    assert {n: test_lock.get(n) for n in runtime} == runtime


def test_runtime_lock_pulls_neither_scikit_learn_nor_scipy(runtime, test_lock):
    assert not {"scikit-learn", "scipy"} & set(runtime)
    assert {"scikit-learn", "scipy"} <= set(test_lock)  # the test extra still checks the shipped digits


def _installed() -> dict[str, importlib.metadata.Distribution]:
    dists = {}
    for dist in importlib.metadata.distributions():
        dists.setdefault(canonicalize_name(dist.metadata["Name"]), dist)  # first on sys.path wins, as import does
    return dists


@pytest.mark.parametrize("which", ["runtime", "test"])
def test_lock_is_closed_under_dependencies(which, runtime, test_lock):
    """Each locked package's own requirements (markers evaluated here, on Python 3.11 linux) are locked too."""
    pins = runtime if which == "runtime" else test_lock
    installed = _installed()
    assert set(pins) <= set(installed), "run in the venv `make test` installs from the lock"
    missing = []
    for name in pins:
        for spec in installed[name].requires or []:
            req = Requirement(spec)
            applies = req.marker is None or req.marker.evaluate({"extra": ""})
            if applies and canonicalize_name(req.name) not in pins:
                missing.append(f"{name} needs {req}")
    assert missing == []


def test_running_venv_is_exactly_the_test_lock(test_lock):
    """`make test` runs in a venv installed from requirements/test.txt (a fresh one whenever the lock changes)."""
    installed = _installed()
    project = canonicalize_name(PYPROJECT["project"]["name"])
    assert installed.pop(project).version == PYPROJECT["project"]["version"]
    got = {n: d.version for n, d in installed.items() if not (n in VENV_SEED and n not in test_lock)}
    assert {n: v for n, v in got.items() if test_lock.get(n) != v} == {}, "installed but not locked (or other version)"
    assert {n: v for n, v in test_lock.items() if got.get(n) != v} == {}, "locked but not installed"


@pytest.fixture
def make_copy(tmp_path) -> Path:
    """A directory holding only the Makefile and the lock inputs."""
    for rel in ("Makefile", "pyproject.toml", "requirements/runtime.txt", "requirements/test.txt"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / rel, tmp_path / rel)
    return tmp_path


def _dry_run(where: Path, target: str) -> str:
    """The commands `make TARGET` would run there (`make -n`: nothing is run)."""
    proc = subprocess.run(
        ["make", "-n", f"PY={sys.executable}", target], cwd=where, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_make_installs_from_the_lock_with_hashes(make_copy):
    site = _dry_run(make_copy, "site")
    assert "--require-hashes -r requirements/runtime.txt" in site and "requirements/test.txt" not in site
    assert "--no-deps -e ." in site and "[test]" not in site
    test = _dry_run(make_copy, "venv-test")
    assert "--require-hashes -r requirements/test.txt" in test


@pytest.mark.parametrize("edited", ["pyproject.toml", "requirements/runtime.txt", "requirements/test.txt"])
def test_venv_stamp_follows_the_lock_inputs(make_copy, edited):
    stamp = re.compile(r"touch \.venv/\.initlab-runtime-(\w+)")
    before = stamp.search(_dry_run(make_copy, "venv"))[1]
    with open(make_copy / edited, "a") as f:
        f.write("# edited\n")
    assert stamp.search(_dry_run(make_copy, "venv"))[1] != before
