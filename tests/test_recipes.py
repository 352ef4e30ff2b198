"""The README's "Adding an init scheme" and "Adding an activation" recipes, followed verbatim.

Each test copies the repository's ``generator/``, ``templates/``, ``reference/`` and
``configs/small.toml`` into ``tmp_path``, applies the README section's fenced snippets as written (the
``python`` block is appended to the module the section names; each ``toml`` block starts with a
``# <catalog>, under [<table>]`` comment and its lines go right under that table), points a copy of
the small config at the new name only (the recipe says: add the name to the config), and runs
``python -m generator experiments`` in a subprocess whose ``PYTHONPATH`` is the copy, so every output
lands inside ``tmp_path``. The copy's ``tests/test_inits.py`` / ``tests/test_activations.py`` are run
on the new entry too (the README says they check it without edits). The numbers are then checked against closed forms written out here, not
against the code under test: LeCun uniform promises Var(W) = 1/fan_in, and hard tanh under
sigma_w^2 = 1 has E[phi(z)^2] = 1 - 2 pdf(1) and saturates where |x| >= 1.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
TOML_HEAD = re.compile(r"#\s*(\S+),\s*under\s*\[([\w.]+)\]\s*$")


def section(heading: str) -> str:
    """The text of README.md from ``## heading`` to the next ``## ``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", text, flags=re.S | re.M)


def copy_repo(dst: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("generator", "templates", "reference"):
        shutil.copytree(REPO / name, dst / name, ignore=ignore)
    for name in (
        "configs/small.toml",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/sitebuild.py",
        "tests/gradcheck.py",
        "tests/test_inits.py",
        "tests/test_activations.py",
    ):
        (dst / name).parent.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, dst / name)
    return dst


def apply_recipe(repo: Path, text: str, module: str) -> None:
    """Append the section's one python block to ``module`` and insert each toml block under its table."""
    assert f"`{module}`" in text, f"the recipe no longer names {module}"
    (code,) = blocks(text, "python")
    target = repo / module
    target.write_text(target.read_text(encoding="utf-8") + "\n\n" + code, encoding="utf-8")
    tomls = blocks(text, "toml")
    assert len(tomls) == 2, "one display name per language"
    for block in tomls:
        first, *lines = block.splitlines()
        m = TOML_HEAD.match(first)
        assert m, f"toml block must start with '# <file>, under [<table>]': {first!r}"
        path, table = repo / m.group(1), f"[{m.group(2)}]"
        old = path.read_text(encoding="utf-8").splitlines(keepends=True)
        at = [i for i, line in enumerate(old) if line.strip() == table]
        assert len(at) == 1, f"{table} not found once in {path}"
        path.write_text("".join(old[: at[0] + 1] + [ln + "\n" for ln in lines] + old[at[0] + 1 :]), encoding="utf-8")


def small_config(repo: Path, *, inits: list[str], activations: list[str]) -> Path:
    """configs/small.toml with only the given inits and activations, norm none and one seed."""
    text = (repo / "configs" / "small.toml").read_text(encoding="utf-8")
    prop = text.index("[propagation]")
    end = text.index("\n[", prop + 1)
    head, body, tail = text[:prop], text[prop:end], text[end:]
    for key, value in (("inits", inits), ("activations", activations), ("norms", ["none"]), ("seeds", [0])):
        body, n = re.subn(rf"^{key} = .*$", f"{key} = {value!r}".replace("'", '"'), body, flags=re.M)
        assert n == 1, key
    path = repo / "configs" / "recipe.toml"
    path.write_text(head + body + tail, encoding="utf-8")
    return path


def run(repo: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(repo)}
    return subprocess.run([sys.executable, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=timeout)


def build(repo: Path, config: Path) -> dict[str, pd.DataFrame]:
    t0 = time.perf_counter()
    out = run(repo, "-m", "generator", "experiments", "--config", str(config), "--quiet")
    print(f"experiments on the copy: {time.perf_counter() - t0:.1f} s")
    assert out.returncode == 0, out.stderr[-3000:]
    data = repo / "site" / "docs" / "data"
    return {name: pd.read_csv(data / f"{name}.csv") for name in ("propagation", "theory", "theory_fixed")}


def unit_tests(repo: Path, test_file: str, name: str) -> int:
    """Run the copy's ``test_file`` on the tests whose id names ``name``; returns how many passed."""
    out = run(repo, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file, "-k", name, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:]
    return int(re.search(r"(\d+) passed", out.stdout).group(1))


def display_names(repo: Path, key: str) -> list[str]:
    code = f"from generator.render import strings; print(strings.t('en', {key!r})); print(strings.t('ko', {key!r}))"
    out = run(repo, "-c", code, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.splitlines()


def test_init_recipe_builds_the_small_grid(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    apply_recipe(repo, section("Adding an init scheme"), "generator/engine/inits.py")
    closed_form = {"lecun_uniform": lambda fan_in, fan_out: 1.0 / fan_in}  # the recipe's example
    (name,) = closed_form  # fails here if the README's example changes: then update this test
    assert display_names(repo, f"fig.init.{name}") == ["LeCun uniform", "LeCun 균등분포"]
    assert unit_tests(repo, "tests/test_inits.py", name) >= 2  # the registry-driven tests pick it up
    cfg = small_config(repo, inits=[name], activations=["tanh"])
    d = build(repo, cfg)
    width, depth = 100, 5  # configs/small.toml
    assert f"width = {width}" in cfg.read_text() and f"depth = {depth}" in cfg.read_text()
    var = closed_form[name](width, width)
    prop = d["propagation"][d["propagation"]["init"] == name]
    assert sorted(prop["layer"]) == list(range(1, depth + 1))
    fixed = d["theory_fixed"][d["theory_fixed"]["init"] == name]
    assert len(fixed) == 1 and fixed["sigma_w2"].iloc[0] == pytest.approx(width * var, rel=1e-12)
    q1 = d["theory"].query("init == @name and layer == 1")["q"].iloc[0]
    assert q1 == pytest.approx(width * var, rel=1e-12)
    # measured: A_1 = X W_1 with X ~ N(0, 1), so Var(A_1) ~= fan_in Var(W). Standard error of the
    # estimate (relative): weights sqrt(0.8 / width^2) (uniform: E[W^4]/E[W^2]^2 = 9/5) and inputs
    # sqrt(2 / (samples * width)) -> 1.3%; 6 of them is 8%. he_uniform's 2/fan_in would be 100% off.
    samples = 200
    se = math.sqrt(0.8 / width**2 + 2.0 / (samples * width))
    measured = prop[prop["layer"] == 1]["preact_std"].iloc[0] ** 2
    assert measured == pytest.approx(width * var, rel=6 * se)


def test_activation_recipe_builds_the_small_grid(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    apply_recipe(repo, section("Adding an activation"), "generator/engine/activations.py")
    name = "hardtanh"  # the recipe's example
    assert display_names(repo, f"fig.activation.{name}") == ["hard tanh", "하드 tanh"]
    # derivative, extreme inputs, dtypes, max slope, histogram range, fused path: the documented contract
    assert unit_tests(repo, "tests/test_activations.py", name) >= 5
    d = build(repo, small_config(repo, inits=["xavier"], activations=[name]))
    prop = d["propagation"][d["propagation"]["activation"] == name]
    assert sorted(prop["layer"]) == list(range(1, 6))
    # xavier: sigma_w^2 = 1, q^1 = 1; E[clip(z, -1, 1)^2] = P(|z| < 1) - 2 pdf(1) + P(|z| > 1) = 1 - 2 pdf(1)
    pdf1 = math.exp(-0.5) / math.sqrt(2 * math.pi)
    theory = d["theory"].query("activation == @name").set_index("layer")
    assert theory.loc[1, "q"] == pytest.approx(1.0, rel=1e-12)
    assert theory.loc[2, "q"] == pytest.approx(1.0 - 2.0 * pdf1, rel=1e-3)  # quadrature across the kinks
    assert theory.loc[1, "theory_mean"] == pytest.approx(0.0, abs=1e-12)  # odd function
    # measured at layer 1 (A_1 ~ N(0, ~1)): saturated where |x| >= 1, i.e. 2 (1 - Phi(1)) = 31.7%;
    # binomial error over 20 000 values is 0.3%, the weights' scale moves it by ~1%: 3% tolerance
    first = prop[prop["layer"] == 1].iloc[0]
    assert first["saturated_frac"] == pytest.approx(1.0 - math.erf(1 / math.sqrt(2)), abs=0.03)
    assert first["std"] == pytest.approx(math.sqrt(1.0 - 2.0 * pdf1), rel=0.05)
    assert not prop["diverged"].any()
