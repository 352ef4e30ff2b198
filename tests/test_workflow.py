""".github/workflows/pages.yml and .github/dependabot.yml: valid against GitHub's schemas (offline, vendored
in check-jsonschema), audited offline by zizmor (nothing at medium or above), actions pinned by commit SHA
on a Node 24 release, and holding the facts the deployment relies on: the runtime lock only, and the
experiment store cached under a key of its inputs with a manual "clear cache" switch."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "pages.yml"
DEPENDABOT = REPO / ".github" / "dependabot.yml"
RUNTIME_LOCK = "requirements/runtime.txt"

# First major release of each action that runs on Node 24 (read from each action's action.yml at its
# tags; upload-pages-artifact is composite: v5 is the first to use an upload-artifact on Node 24).
FIRST_NODE24_MAJOR = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/cache/restore": 5,
    "actions/cache/save": 5,
    "actions/upload-pages-artifact": 5,
    "actions/deploy-pages": 5,
}
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?P<rest>.*)$")


@pytest.fixture(scope="module")
def wf() -> dict:
    data = yaml.load(WORKFLOW.read_text("utf-8"), Loader=yaml.BaseLoader)  # no YAML 1.1 "on" -> True
    assert isinstance(data, dict)
    return data


def _steps(wf: dict, job: str) -> list[dict]:
    return wf["jobs"][job]["steps"]


def _uses(wf: dict, job: str) -> list[str]:
    return [s["uses"] for s in _steps(wf, job) if "uses" in s]


def _step(wf: dict, job: str, **match: str) -> dict:
    """The one step of ``job`` whose fields equal ``match`` (``uses`` compares the action, not its ref)."""
    found = [
        s
        for s in _steps(wf, job)
        if all((s.get(k, "").partition("@")[0] if k == "uses" else s.get(k)) == v for k, v in match.items())
    ]
    assert len(found) == 1, (match, found)
    return found[0]


@pytest.mark.parametrize("schema, path", [("vendor.github-workflows", WORKFLOW), ("vendor.dependabot", DEPENDABOT)])
def test_valid_against_vendored_schema(schema, path):
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_schema_check_really_rejects_a_broken_workflow(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  build:\n    steps: []\n")  # no runs-on
    proc = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0


def test_triggers(wf):
    on = wf["on"]
    assert on["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in on
    assert set(on) == {"push", "workflow_dispatch"}
    clear = on["workflow_dispatch"]["inputs"]["clear_cache"]
    assert clear["type"] == "boolean" and clear["default"] == "false"  # a push builds with the cache


def test_least_privilege_permissions(wf):
    assert wf["permissions"] == {"contents": "read"}  # workflow default: read-only
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


def test_actions_pinned_by_commit_sha_with_release_comment():
    seen = {}
    for line in WORKFLOW.read_text("utf-8").splitlines():
        if not (m := USES.match(line)):
            assert "uses:" not in line, line
            continue
        assert re.fullmatch(r"[0-9a-f]{40}", m["ref"]), f"{line.strip()}: not pinned to a full commit SHA"
        comment = re.fullmatch(r"\s+# v(\d+)\.\d+\.\d+\s*", m["rest"])
        assert comment, f"{line.strip()}: needs a '# vX.Y.Z' comment naming the pinned release"
        seen[m["action"]] = int(comment[1])
    assert set(seen) == set(FIRST_NODE24_MAJOR), "new action: add its first Node 24 major to FIRST_NODE24_MAJOR"
    for action, major in seen.items():
        assert major >= FIRST_NODE24_MAJOR[action], f"{action} v{major} runs on a Node runtime GitHub retires"


def test_checkout_does_not_persist_credentials(wf):
    for job in wf["jobs"]:
        for step in _steps(wf, job):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] == "false"


def _zizmor() -> str:
    exe = Path(sys.executable).with_name("zizmor")  # the test extra's console script, beside the venv's python
    found = str(exe) if exe.exists() else shutil.which("zizmor")
    assert found, "zizmor (test extra) is not installed"
    return found


def _zizmor_findings(target: Path) -> list[dict]:
    proc = subprocess.run(
        [_zizmor(), "--offline", "--format", "json", str(target)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=target.parent,
    )
    assert proc.returncode in (0, *range(10, 15)), proc.stderr  # 10-14: findings (highest severity); else error
    return [f for f in json.loads(proc.stdout) if not f.get("ignored")]


def _medium_or_above(findings: list[dict]) -> list[str]:
    return [
        f"{f['ident']} ({f['determinations']['severity']}): {f['desc']}"
        for f in findings
        if f["determinations"]["severity"] in ("Medium", "High")
    ]


def test_zizmor_offline_audit_finds_nothing_at_medium_or_above():
    assert _medium_or_above(_zizmor_findings(REPO / ".github")) == []


def test_zizmor_really_flags_a_broken_workflow(tmp_path):
    bad = tmp_path / ".github" / "workflows"
    bad.mkdir(parents=True)
    (bad / "bad.yml").write_text(
        "on: push\njobs:\n  b:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        '      - run: echo "${{ github.event.head_commit.message }}"\n'
    )
    idents = {f.split(" ")[0] for f in _medium_or_above(_zizmor_findings(tmp_path / ".github"))}
    assert {"unpinned-uses", "template-injection", "artipacked"} <= idents


def test_build_job(wf):
    steps = _steps(wf, "build")
    setup = _step(wf, "build", uses="actions/setup-python")
    assert setup["with"] == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": RUNTIME_LOCK}
    pages = _step(wf, "build", id="pages")
    assert 'gh api "repos/$REPO/pages"' in pages["run"] and "base_url=" in pages["run"]
    assert pages["env"]["REPO"] == "${{ github.repository }}"  # no expression inside the script
    run = _step(wf, "build", run="make site")
    assert run["env"]["INITLAB_SITE_URL"].startswith("${{ steps.%s.outputs.base_url }}" % pages["id"])  # noqa: UP031 (no {{ }} doubling)
    assert steps.index(pages) < steps.index(run)
    upload = _step(wf, "build", uses="actions/upload-pages-artifact")
    assert upload["with"]["path"] == "site/public"
    assert steps.index(run) < steps.index(upload)


def test_build_installs_the_runtime_lock_only(wf):
    """`make site` is the only install: its venv recipe reads requirements/runtime.txt, never the test extra."""
    for job in wf["jobs"]:
        for step in _steps(wf, job):
            text = json.dumps(step)
            assert not re.search(r"pip install|\[test\]|requirements/test\.txt|playwright", text), step
    makefile = (REPO / "Makefile").read_text("utf-8")
    assert re.search(r"^site: venv$", makefile, re.MULTILINE)
    assert re.search(r"^venv: \$\(RUNTIME_STAMP\)$", makefile, re.MULTILINE)


def _hashed_patterns(expr: str) -> list[str]:
    (args,) = re.findall(r"hashFiles\(([^)]*)\)", expr)
    return re.findall(r"'([^']+)'", args)


def test_store_cache_key_names_the_store_inputs(wf):
    key = _step(wf, "build", id="store")
    prefix, inputs = key["env"]["PREFIX"], key["env"]["INPUTS"]
    # the store's entries also key on the Python version and machine (generator/pipeline/store.py)
    for part in ("${{ runner.os }}", "${{ runner.arch }}", "${{ steps.python.outputs.python-version }}"):
        assert part in prefix
    patterns = _hashed_patterns(inputs)
    assert {RUNTIME_LOCK, "generator/**", "templates/**", "experiments.toml"} <= set(patterns)
    for pattern in patterns:  # each names something in the repository (a renamed lock would hash nothing)
        assert next(REPO.glob(pattern), None) is not None, pattern
    assert "key=$PREFIX$INPUTS" in key["run"] and "prefix=$PREFIX" in key["run"]


def test_store_restored_before_the_build_and_saved_after(wf):
    steps = _steps(wf, "build")
    cache_dir = tomllib.loads((REPO / "experiments.toml").read_text("utf-8"))["output"]["cache_dir"]
    store = _step(wf, "build", id="store")
    restore = _step(wf, "build", uses="actions/cache/restore")
    save = _step(wf, "build", uses="actions/cache/save")
    build = _step(wf, "build", run="make site")
    assert steps.index(store) < steps.index(restore) < steps.index(build) < steps.index(save)
    assert restore["with"]["path"] == save["with"]["path"] == cache_dir
    assert restore["with"]["key"] == "${{ steps.store.outputs.key }}"
    assert restore["with"]["restore-keys"] == "${{ steps.store.outputs.prefix }}"
    assert re.sub(r"\s", "", restore["if"]) == "${{!inputs.clear_cache}}"  # clear_cache skips the restore
    # saved keys extend the restore key, so the newest saved store of the same inputs is the one restored
    assert save["with"]["key"].startswith("${{ steps.store.outputs.key }}-${{ github.run_id }}")
    cond = re.sub(r"\s", "", save["if"])
    assert cond.startswith("${{inputs.clear_cache||!startsWith(steps.%s.outputs.cache-matched-key," % restore["id"])  # noqa: UP031 (no {{ }} doubling)
    assert "always()" not in cond and "failure()" not in cond  # a failed build saves nothing


def test_dependabot_updates_pip_and_actions():
    config = yaml.safe_load(DEPENDABOT.read_text("utf-8"))
    ecosystems = {u["package-ecosystem"]: u for u in config["updates"]}
    assert set(ecosystems) == {"pip", "github-actions"}
    assert all(u["directory"] == "/" for u in ecosystems.values())  # requirements/*.txt and .github/workflows


def test_deploy_job(wf):
    deploy = wf["jobs"]["deploy"]
    assert deploy["needs"] == "build"
    assert deploy["environment"]["name"] == "github-pages"
    (step,) = deploy["steps"]
    assert step["uses"].startswith("actions/deploy-pages@")
    assert "run" not in step  # the deploy job installs nothing
    assert deploy["environment"]["url"] == "${{ steps.%s.outputs.page_url }}" % step["id"]  # noqa: UP031 (no {{ }} doubling)


def test_make_site_target_exists():
    makefile = (REPO / "Makefile").read_text("utf-8")
    assert re.search(r"^site:", makefile, re.MULTILINE)
