"""Compiled Jinja templates kept between runs, checksummed like every other cached artefact.

Jinja's :class:`~jinja2.FileSystemBytecodeCache` trusts any file with the right header: a damaged or
edited entry would be unmarshalled and run. Here each entry ``<key>.cache`` has a sidecar
``<key>.cache.sha256`` written after it (both atomically, generator/atomic.py); an entry whose sidecar
is missing or does not match is ignored, and Jinja compiles the template again.
"""

from __future__ import annotations

import hashlib
import io

import jinja2

from generator.common import atomic


class CheckedBytecodeCache(jinja2.FileSystemBytecodeCache):
    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        path = self._get_cache_filename(bucket)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            with open(path + ".sha256", encoding="ascii") as fh:
                expected = fh.read().strip()
        except OSError:
            return
        if hashlib.sha256(data).hexdigest() == expected:
            bucket.load_bytecode(io.BytesIO(data))

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        buf = io.BytesIO()
        bucket.write_bytecode(buf)
        data = buf.getvalue()
        path = self._get_cache_filename(bucket)
        atomic.write_bytes(path, data)
        atomic.write_text(path + ".sha256", hashlib.sha256(data).hexdigest())
