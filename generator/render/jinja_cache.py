"""Compiled Jinja templates kept between runs, checksummed like every other cached artefact.

Jinja's :class:`~jinja2.FileSystemBytecodeCache` trusts any file with the right header: a damaged or
edited entry would be unmarshalled and run. Here each entry ``<key>.cache`` gets the package's one
integrity sidecar, ``<key>.cache.json`` (generator/common/hashing.py: SHA-256 of the entry, written
after it, both atomically); an entry whose sidecar is missing or does not match is ignored, and Jinja
compiles the template again.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import jinja2

from generator.common import atomic
from generator.common.hashing import sha256_bytes, write_sidecar


class CheckedBytecodeCache(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        path = self._get_cache_filename(bucket)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            expected = json.loads(Path(path + ".json").read_text())["files"][os.path.basename(path)]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if sha256_bytes(data) == expected:  # the bytes that are loaded are the bytes that were checked
            bucket.load_bytecode(io.BytesIO(data))

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        buf = io.BytesIO()
        bucket.write_bytecode(buf)
        path = self._get_cache_filename(bucket)
        atomic.write_bytes(path, buf.getvalue())
        folder, name = os.path.split(path)
        write_sidecar(path + ".json", folder, [name])
