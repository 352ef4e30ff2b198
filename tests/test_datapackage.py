"""data/datapackage.json (generator/contract/datapackage.py): a Frictionless Data Package generated
from the contract, validated with the ``frictionless`` library.

The first tests write small contract-conforming CSVs for every contract file (through the pipeline's own
writer, so NaN, ``inf`` and booleans are written as the real files write them) and check the package the
generator makes for them; the last ones check the package of the session's reduced-grid build
(tests/conftest.py ``site_build``): valid, listed in the build manifest, published.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import frictionless  # the test extra pins it: a missing install fails here, it is not skipped
import pandas as pd
import pytest

from generator.contract import datapackage as dp
from generator.contract import schema as contract
from generator.pipeline.outputs import MANIFEST

# two rows per column type: the second row holds the special values the CSVs can contain
VALUES = {"str": ["a", "b"], "int": [1, 2], "float": [0.5, math.inf], "bool": [True, False]}


def _frame(spec) -> pd.DataFrame:
    df = pd.DataFrame({c.name: VALUES[c.dtype] for c in spec.columns})
    floats = [c.name for c in spec.columns if c.dtype == "float"]
    if len(floats) > 1:  # an undefined value (written as an empty field) and a -inf
        df.loc[0, floats[1]] = math.nan
        df.loc[1, floats[-1]] = -math.inf
    return df


def _report_errors(report) -> list[str]:
    return [e.type for e in report.errors] + [e.type for task in report.tasks for e in task.errors]


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    for name, spec in contract.DATA_FILES.items():
        contract.write_csv(name, _frame(spec), tmp_path)
    dp.write_package(tmp_path)
    return tmp_path


def test_package_of_every_contract_file_is_valid(data_dir):
    report = frictionless.validate(str(data_dir / dp.PACKAGE_FILE))
    assert report.valid, _report_errors(report)
    desc = json.loads((data_dir / dp.PACKAGE_FILE).read_text("utf-8"))
    assert [r["path"] for r in desc["resources"]] == list(contract.DATA_FILES)
    assert [lic["name"] for lic in desc["licenses"]] == ["CC-BY-4.0"]


def test_infinities_and_empty_fields_read_as_numbers(data_dir):
    package = frictionless.Package(str(data_dir / dp.PACKAGE_FILE))
    rows = package.get_resource("seed_code").read_rows()  # floats mean, std: std empty, then inf and -inf
    assert rows[0]["std"] is None
    assert float(rows[1]["mean"]) == math.inf and float(rows[1]["std"]) == -math.inf


def test_hash_and_bytes_match_the_files(data_dir):
    desc = json.loads((data_dir / dp.PACKAGE_FILE).read_text("utf-8"))
    for res in desc["resources"]:
        raw = (data_dir / res["path"]).read_bytes()
        assert res["bytes"] == len(raw)
        assert res["hash"].startswith("sha256:") and len(res["hash"]) == len("sha256:") + 64


def test_a_changed_file_fails_validation(data_dir):
    """The hash is checked: one more data row (still well-typed) makes the package invalid."""
    path = data_dir / "symmetry.csv"
    path.write_bytes(path.read_bytes() + path.read_bytes().splitlines(keepends=True)[1])
    report = frictionless.validate(str(data_dir / dp.PACKAGE_FILE))
    assert not report.valid
    assert "hash-count" in _report_errors(report)


def test_a_missing_field_fails_validation(data_dir):
    desc = json.loads((data_dir / dp.PACKAGE_FILE).read_text("utf-8"))
    desc["resources"][0]["schema"]["fields"].pop()
    (data_dir / dp.PACKAGE_FILE).write_text(json.dumps(desc), "utf-8")
    report = frictionless.validate(str(data_dir / dp.PACKAGE_FILE))
    assert not report.valid


def test_every_contract_column_is_a_field_with_both_descriptions():
    for name, spec in contract.DATA_FILES.items():
        fields = dp.resource(spec, b"")["schema"]["fields"]
        assert [f["name"] for f in fields] == spec.column_names, name
        for f, col in zip(fields, spec.columns):
            assert f["type"] == dp.TYPES[col.dtype]
            assert f["description"] == col.en and f["x-description-ko"] == col.ko


def test_only_present_files_and_deterministic_bytes(tmp_path):
    contract.write_csv("theory_fixed.csv", _frame(contract.THEORY_FIXED), tmp_path)
    first = dp.package_bytes(dp.package(tmp_path))
    assert [r["path"] for r in json.loads(first)["resources"]] == ["theory_fixed.csv"]
    assert dp.package_bytes(dp.package(tmp_path)) == first
    assert str(tmp_path).encode() not in first


# ------------------------------------------------------------------------------------------------
# the reduced-grid build


@pytest.mark.slow
def test_built_package_is_valid_listed_and_published(site_build):
    data = site_build.docs_dir / "data"
    report = frictionless.validate(str(data / dp.PACKAGE_FILE))
    assert report.valid, _report_errors(report)
    desc = json.loads((data / dp.PACKAGE_FILE).read_text("utf-8"))
    present = [n for n in contract.DATA_FILES if (data / n).is_file()]
    assert [r["path"] for r in desc["resources"]] == present
    assert "claims.csv" in present  # written by the training stage: the package was refreshed after it
    listed = {f for fs in json.loads((site_build.docs_dir / MANIFEST).read_text())["stages"].values() for f in fs}
    assert f"data/{dp.PACKAGE_FILE}" in listed
    published = site_build.public_dir / "data" / dp.PACKAGE_FILE
    assert published.read_bytes() == (data / dp.PACKAGE_FILE).read_bytes()
    for lang in ("ko", "en"):  # the reproducibility page links it in both languages
        page = (site_build.docs_dir / f"reproducibility.{lang}.md").read_text("utf-8")
        assert f"(data/{dp.PACKAGE_FILE})" in page, lang
