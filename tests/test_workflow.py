""".github/workflows/pages.yml: valid against GitHub's workflow schema (offline, vendored in
check-jsonschema) and holding the facts the deployment relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"


@pytest.fixture(scope="module")
def wf() -> dict:
    data = yaml.load(WORKFLOW.read_text("utf-8"), Loader=yaml.BaseLoader)  # no YAML 1.1 "on" -> True
    assert isinstance(data, dict)
    return data


def _steps(wf: dict, job: str) -> list[dict]:
    return wf["jobs"][job]["steps"]


def _uses(wf: dict, job: str) -> list[str]:
    return [s["uses"] for s in _steps(wf, job) if "uses" in s]


def test_valid_against_vendored_github_workflow_schema():
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(WORKFLOW)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_really_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  build:\n    steps: []\n")  # no runs-on
    proc = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema",
                           "vendor.github-workflows", str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0


def test_triggers(wf):
    on = wf["on"]
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on
    assert set(on) == {"push", "workflow_dispatch"}


def test_least_privilege_permissions(wf):
    assert wf["permissions"] == {"contents": "read"}                 # workflow default: read-only
    build, deploy = wf["jobs"]["build"], wf["jobs"]["deploy"]
    assert build["permissions"] == {"contents": "read", "pages": "read"}
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    for name, job in wf["jobs"].items():
        perms = job.get("permissions", wf["permissions"])
        assert perms not in ("write-all", "read-all"), name
        if name != "deploy":
            assert "write" not in perms.values(), f"job {name} must not write"


def test_concurrency(wf):
    assert wf["concurrency"] == {"group": "pages", "cancel-in-progress": "false"}


def test_actions_pinned_to_major_versions(wf):
    expected = {"actions/checkout": "v4", "actions/setup-python": "v5", "actions/configure-pages": "v5",
                "actions/upload-pages-artifact": "v3", "actions/deploy-pages": "v4"}
    seen = {}
    for job in wf["jobs"]:
        for ref in _uses(wf, job):
            name, _, version = ref.partition("@")
            assert re.fullmatch(r"v\d+", version), f"{ref} is not pinned to a major version"
            seen[name] = version
    assert seen == expected


def test_build_job(wf):
    steps = _steps(wf, "build")
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"] == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": "pyproject.toml"}
    pages = next(s for s in steps if s.get("uses", "").startswith("actions/configure-pages@"))
    run = next(s for s in steps if "run" in s)
    assert run["run"].strip() == "make site"
    assert run["env"]["INITLAB_SITE_URL"].startswith("${{ steps.%s.outputs.base_url }}" % pages["id"])  # noqa: UP031 (no {{ }} doubling)
    assert steps.index(pages) < steps.index(run)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact@"))
    assert upload["with"]["path"] == "site/public"
    assert steps.index(run) < steps.index(upload)


def test_deploy_job(wf):
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    (step,) = deploy["steps"]
    assert step["uses"].startswith("actions/deploy-pages@")
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % step["id"]  # noqa: UP031 (no {{ }} doubling)


def test_make_site_target_exists():
    makefile = (REPO / "Makefile").read_text("utf-8")
    assert re.search(r"^site:", makefile, re.MULTILINE)
