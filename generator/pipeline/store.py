"""Content-addressed cache of experiment results (and of any stage output made of DataFrames).

Contract (after sphinx-gallery and jupyter-cache): an entry is keyed by a SHA-256 of its *inputs* —
the task kind, its parameters, the source text of the modules that compute it, and the versions of
the libraries involved — never by mtimes and never by a ``repr`` (which can hold a memory address).
An entry is two files::

    <cache_dir>/<kind>/<key[:2]>/<key>.npz    the frames, as plain arrays (loaded with allow_pickle=False)
    <cache_dir>/<kind>/<key[:2]>/<key>.json   sidecar: the SHA-256 of the .npz and the key's inputs

The sidecar is written last, after the .npz is complete and renamed into place, so an interrupted
write leaves no sidecar and the entry is simply missing. On read, the .npz is hashed and compared with
the sidecar; a corrupted or truncated entry is deleted and reported as a miss, never trusted.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import platform
from pathlib import Path

import numpy as np
import pandas as pd

from generator.common import atomic
from generator.common.hashing import sha256_file

Frames = dict[str, pd.DataFrame]


def source_hash(module_names: tuple[str, ...]) -> str:
    """SHA-256 over the source text of the named modules (the code that computes a result)."""
    h = hashlib.sha256()
    for name in sorted(module_names):
        mod = importlib.import_module(name)
        h.update(name.encode())
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


def environment() -> dict:
    """Library versions that can change a result bit for bit."""
    import matplotlib

    return {
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
    return hashlib.sha256(blob.encode()).hexdigest(), inputs


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
    names = sorted({k.split("/", 1)[0] for k in arrays.keys()})
    for fname in names:
        columns = [str(c) for c in arrays[f"{fname}/__columns__"]]
        frames[fname] = pd.DataFrame({c: arrays[f"{fname}/{c}"] for c in columns}, columns=columns)
    return frames


class Cache:
    """A directory of entries; ``None`` as ``root`` disables caching (every lookup misses)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root is not None else None
        self.corrupt: list[str] = []  # keys found damaged and dropped in this process

    def _paths(self, kind: str, key: str) -> tuple[Path, Path]:
        d = self.root / kind / key[:2]
        return d / f"{key}.npz", d / f"{key}.json"

    def get(self, kind: str, key: str) -> Frames | None:
        if self.root is None:
            return None
        data, sidecar = self._paths(kind, key)
        if not sidecar.exists() or not data.exists():
            return None
        try:
            meta = json.loads(sidecar.read_text())
            if meta.get("sha256") != sha256_file(data):
                raise ValueError("checksum mismatch")
            with np.load(data, allow_pickle=False) as npz:
                return arrays_to_frames({k: npz[k] for k in npz.files})
        except Exception:  # any damage: drop the entry and recompute
            self.corrupt.append(key)
            for p in (sidecar, data):
                p.unlink(missing_ok=True)
            return None

    def put(self, kind: str, key: str, inputs: dict, frames: Frames) -> None:
        if self.root is None:
            return
        data, sidecar = self._paths(kind, key)
        with atomic.open_atomic(data, "wb") as fh:
            np.savez(fh, **frames_to_arrays(frames))
        meta = {"sha256": sha256_file(data), "inputs": inputs}
        atomic.write_text(sidecar, json.dumps(meta, sort_keys=True, indent=1))
