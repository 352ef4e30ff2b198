"""`python -m generator site` runs every stage through ONE process pool with the stages overlapped
(generator/pipeline/stages.py: _site). Whatever the overlap, its output must be what the stages give when run
one after another: the session's reduced site is built stage by stage (tests/sitebuild.py), so the two
generated docs trees are compared file by file. The ``site`` run is the session's ``cli_site`` (tests/conftest.py),
whose copies tests/test_ownership.py also works on."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_site_command_equals_stage_by_stage_build(site_build, cli_site):
    # cli_site (tests/conftest.py): a clean `site --site-url <the shared site's url>` run with
    # INITLAB_EXECUTOR=process (the pool path, whatever the core count)
    proc, root = cli_site.proc, cli_site.root
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "Glyph" not in proc.stderr and "Traceback" not in proc.stderr
    ours, staged = _tree(root / "docs"), _tree(site_build.docs_dir)
    assert ours.keys() == staged.keys(), sorted(set(ours) ^ set(staged))
    differ = sorted(k for k in ours if ours[k] != staged[k])
    assert not differ, differ
    assert not list((root / "docs").glob(".figures-*"))  # the figures' temporary folder is gone
    assert (root / "public" / "index.html").is_file() and (root / "public" / "en" / "index.html").is_file()
    # the seed note's code re-runs are runner tasks too (computed in the pool, then cached)
    assert re.search(r"^seed_code: (\d+) tasks, 0 cached, \1 computed", proc.stderr, re.M), proc.stderr[-2000:]
