"""The one content-addressed store: task results, figure files and stage manifests, one integrity scheme.

Keys (after sphinx-gallery and jupyter-cache): an entry is keyed by a SHA-256 of its *inputs* -- the
kind, its parameters, the code that computes it, the versions of the libraries involved and, for
computed results, the BLAS kernel and thread count the task ran with -- never by mtimes and never by a ``repr`` (which can hold a memory address). The code part is
:func:`generator.common.imports.code_digest` of the module that computes the entry: its import
closure within ``generator``, found by walking imports (no hand-kept module lists).

Integrity (generator/common/hashing.py): payload files first, then a JSON sidecar written last with
the SHA-256 of every payload file and the key's inputs. On read every file is hashed against the
sidecar; a missing sidecar (an interrupted write) is a miss, a mismatch (damage, a hand edit) is a miss
and the entry is deleted. Layout of ``<cache_dir>``::

    <kind>/<key[:2]>/<key>.json               sidecar of every entry: {"files": {name: sha256}, "inputs": ...}
    propagation|symmetry|seed_code|training/<key[:2]>/<key>.npz   a task's frames (allow_pickle=False)
    figures/<key[:2]>/<key>.svg               one grid figure in one language
    figures/<key[:2]>/<key>/<stem>.<lang>.svg the training page's figures, cached as one set
    jinja/<hash>.cache (+ .cache.json)        compiled templates (generator/render/jinja_cache.py)
    site-stamp.json                           the whole-site stamp (generator/pipeline/stamp.py)

Stage manifests live beside the files they describe, in ``<docs_dir>/data/`` (``.experiments-``,
``.symmetry-``, ``.seed-`` and ``.training-manifest.json``): the same sidecar with ``"key"``, written
after the group's CSVs (:func:`write_manifest`, :func:`manifest_is_current`).
"""

from __future__ import annotations

import json
import os
import platform
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from generator.common import atomic
from generator.common.hashing import sha256_bytes, verify_sidecar, write_sidecar
from generator.common.imports import code_digest

Frames = dict[str, pd.DataFrame]


def module_code(module: str) -> str:
    """The code part of a key: digest of ``module``'s import closure (generator/common/imports.py)."""
    return code_digest((module,))


def _numpy_blas(controllers: list) -> list:
    """Of threadpoolctl's BLAS controllers, the ones NumPy runs on: a NumPy wheel bundles its BLAS in
    ``numpy.libs`` (or ``numpy/.libs``), and other wheels bundle their own (SciPy's ``scipy.libs``: another
    OpenBLAS, loaded only once SciPy is imported). Without a bundled one (NumPy linked to a system BLAS),
    every library not bundled by another wheel."""
    root = Path(np.__file__).resolve().parent  # .../site-packages/numpy
    mine = [c for c in controllers if Path(c.filepath).resolve().is_relative_to(root.parent / "numpy.libs")]
    mine = mine or [c for c in controllers if Path(c.filepath).resolve().is_relative_to(root)]
    if mine:
        return mine
    return [c for c in controllers if not Path(c.filepath).parent.name.endswith(".libs")]


@lru_cache(maxsize=1)
def _blas_libraries():
    """threadpoolctl's controllers of the BLAS libraries NumPy runs on (:func:`_numpy_blas`), found once
    per process: the scan is not safe against another thread changing the limits (an in-process Dask
    worker) at the same moment, while reading a found library's thread count is one plain call into it.
    Only NumPy's: which other BLAS libraries are loaded depends on what the process imported before (a
    test session imports SciPy), and the kernel string is part of every cache key and of the Dask workers'
    environment check."""
    from threadpoolctl import ThreadpoolController

    return _numpy_blas(ThreadpoolController().select(user_api="blas").lib_controllers)


def blas_kernel() -> str:
    """The BLAS libraries NumPy runs on: library, version and CPU kernel (a GEMM's last bits depend on them)."""
    infos = [c.info() for c in _blas_libraries()]
    return ";".join(sorted(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in infos))


def blas_threads() -> int:
    """The BLAS threads this process runs with now (0 without a BLAS threadpoolctl can see).

    Read at every call: a process may change its limit (threadpoolctl). A GEMM split over more threads
    sums in another order, so its last bits -- and every cache key -- depend on this count
    (runner.task_environment puts the count a task runs with into its keys)."""
    return max((c.num_threads for c in _blas_libraries()), default=0)


def environment() -> dict:
    """Library versions and the BLAS kernel: what can change a result bit for bit, besides the BLAS thread
    count, which depends on where a task runs (the executor) and is added by runner.task_environment."""
    import matplotlib

    return {
        "blas": blas_kernel(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
        "machine": platform.machine(),
    }


def cache_key(kind: str, params: dict, code: str, env: dict | None = None) -> tuple[str, dict]:
    """Return ``(key, inputs)``: the hex key and the canonical inputs it hashes."""
    inputs = {"kind": kind, "params": params, "code": code, "env": env if env is not None else environment()}
    blob = json.dumps(inputs, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return sha256_bytes(blob.encode()), inputs


def frames_to_arrays(frames: Frames) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for fname, df in frames.items():
        arrays[f"{fname}/__columns__"] = np.array(list(df.columns), dtype=str)
        for col in df.columns:
            values = df[col].to_numpy()
            if values.dtype == object:
                values = values.astype(str)
            arrays[f"{fname}/{col}"] = values
    return arrays


def arrays_to_frames(arrays) -> Frames:
    frames: Frames = {}
    names = sorted({k.split("/", 1)[0] for k in arrays})
    for fname in names:
        columns = [str(c) for c in arrays[f"{fname}/__columns__"]]
        frames[fname] = pd.DataFrame({c: arrays[f"{fname}/{c}"] for c in columns}, columns=columns)
    return frames


class Store:
    """Entries of ``<root>/<kind>/<key[:2]>/``: payload files named relative to that folder, and the
    sidecar ``<key>.json`` written last. ``None`` as ``root`` disables storing (every lookup misses)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.corrupt: list[str] = []  # keys found damaged and dropped in this process

    def folder(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2]

    def sidecar(self, kind: str, key: str) -> Path:
        return self.folder(kind, key) / f"{key}.json"

    def lookup(self, kind: str, key: str, names) -> dict[str, Path] | None:
        """``{name: path}`` of an intact entry holding exactly ``names``, else None (a damaged entry
        is deleted and its key added to :attr:`corrupt`)."""
        if self.root is None:
            return None
        folder, sidecar = self.folder(kind, key), self.sidecar(kind, key)
        if not sidecar.exists():
            return None  # never written, or interrupted before its sidecar
        if verify_sidecar(sidecar, folder, names) is None:
            self.drop(kind, key, names)
            return None
        return {n: folder / n for n in names}

    def commit(self, kind: str, key: str, names, inputs: dict) -> None:
        """Write the sidecar of payload files already complete in :meth:`folder` (call last)."""
        if self.root is not None:
            write_sidecar(self.sidecar(kind, key), self.folder(kind, key), names, inputs=inputs)

    def put_files(self, kind: str, key: str, files: dict[str, Path], inputs: dict) -> dict[str, Path]:
        """Move finished files (same file system) into the entry as ``{name: source}``, then commit."""
        folder = self.folder(kind, key)
        placed = {}
        for name, src in files.items():
            dst = folder / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dst)
            placed[name] = dst
        self.commit(kind, key, list(files), inputs)
        return placed

    def drop(self, kind: str, key: str, names) -> None:
        """Delete an entry: the sidecar first (the entry is then a miss), then its payload files."""
        self.corrupt.append(key)
        folder = self.folder(kind, key)
        self.sidecar(kind, key).unlink(missing_ok=True)
        for n in names:
            (folder / n).unlink(missing_ok=True)
        for n in {Path(n).parent for n in names} - {Path(".")}:
            try:
                (folder / n).rmdir()
            except OSError:
                pass


class Cache(Store):
    """Task results: one ``<key>.npz`` of frames per entry."""

    def get(self, kind: str, key: str) -> Frames | None:
        names = [f"{key}.npz"]
        found = self.lookup(kind, key, names)
        if found is None:
            return None
        try:
            with np.load(found[names[0]], allow_pickle=False) as npz:
                return arrays_to_frames({k: npz[k] for k in npz.files})
        except Exception:  # intact bytes that do not load: drop the entry and recompute
            self.drop(kind, key, names)
            return None

    def put(self, kind: str, key: str, inputs: dict, frames: Frames) -> None:
        if self.root is None:
            return
        name = f"{key}.npz"
        with atomic.open_atomic(self.folder(kind, key) / name, "wb") as fh:
            np.savez(fh, **frames_to_arrays(frames))
        self.commit(kind, key, [name], inputs)


def manifest_is_current(data_dir: Path, key: str, manifest: str) -> bool:
    """True when ``data_dir/manifest`` records ``key`` and every file it lists is unchanged."""
    record = verify_sidecar(data_dir / manifest, data_dir)
    return record is not None and record.get("key") == key


def write_manifest(data_dir: Path, key: str, names: list[str], manifest: str, inputs: dict | None = None) -> None:
    """Record ``key`` and the SHA-256 of each written file (call only after every file is written)."""
    write_sidecar(data_dir / manifest, data_dir, names, key=key, **({"inputs": inputs} if inputs else {}))
