"""``data/datapackage.json``: the contract's data files as a Frictionless Data Package (v2).

Contract
--------
* One resource per contract file present in the data directory, in :data:`~generator.contract.schema.DATA_FILES`
  order: ``name`` (the file's stem), ``path``, ``format: csv``, ``mediatype``, ``encoding: utf-8``,
  ``bytes``, ``hash`` (``sha256:<hex>`` of the bytes on disk), ``description`` (English) and
  ``x-description-ko`` (Korean), and a Table Schema whose fields are the contract's columns in order.
* Types map one to one (:data:`TYPES`). The CSVs write NaN as an empty field (``missingValues: [""]``)
  and infinities as ``inf``/``-inf``, which a Table Schema ``number`` accepts as written; booleans are
  ``True``/``False`` (declared as ``trueValues``/``falseValues``).
* Package level: name, title, bilingual description, the CC BY 4.0 licence of the data, and the sources
  the data depend on (the source note, quoted in ``seed_printed.csv``; the UCI digits behind the
  training files). No address is invented: the source note's is not recorded in the repository.
* Deterministic: no dates, no absolute paths; keys in a fixed order; the bytes depend only on the
  contract and on the data files' bytes. Written atomically, and only when the bytes change.
"""

from __future__ import annotations

import json
from pathlib import Path

from generator.common import atomic
from generator.common.hashing import sha256_bytes
from generator.contract.datafile import Column, DataFile
from generator.contract.licences import CONTENT, LICENCES
from generator.contract.schema import DATA_FILES

PACKAGE_FILE = "datapackage.json"
PACKAGE_PROFILE = "https://datapackage.org/profiles/2.0/datapackage.json"
SCHEMA_PROFILE = "https://datapackage.org/profiles/2.0/tableschema.json"
# the contract's column types -> Table Schema field types
TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}

LICENSE = {"name": CONTENT, "path": LICENCES[CONTENT]["url"], "title": LICENCES[CONTENT]["title"]}
SOURCES = (
    {
        "title": 'choidam, "[Deep Learning] Training NeuralNetwork(2) : Weight Initialization, Batch '
        'Normalization", 개발아 담하자 (blog), 2020-05-26 -- the source note; seed_printed.csv quotes '
        "the numbers it prints",
        "x-license": "not stated by the source; only printed numbers are quoted, for comparison",
    },
    {
        "title": "E. Alpaydin, C. Kaynak, Optical Recognition of Handwritten Digits, UCI Machine Learning "
        "Repository (1998) -- the 8x8 digits behind the training_*.csv files, as bundled with "
        "scikit-learn (BSD-3-Clause)",
        "path": "https://doi.org/10.24432/C50P49",
        "licenses": [LICENSE],
    },
)
DESCRIPTION = {
    "en": "Every data file of initlab: per-layer statistics of NumPy MLPs at initialization, mean-field "
    "predictions, the source note's numbers and their re-run, and training runs on the digits data. "
    "Columns and meanings come from generator/contract (the site's data dictionary).",
    "ko": "initlab의 모든 데이터 파일: 초기화 직후 NumPy MLP의 층별 통계, 평균장(mean-field) 이론의 예측, "
    "원본 노트의 숫자와 그 재실행, digits 데이터로 한 학습 결과. 열 이름과 뜻은 generator/contract "
    "(사이트의 데이터 사전)에서 옵니다.",
}


def field(col: Column) -> dict:
    """The Table Schema field of one contract column."""
    out: dict = {"name": col.name, "type": TYPES[col.dtype], "description": col.en, "x-description-ko": col.ko}
    if col.dtype == "bool":
        out |= {"trueValues": ["True"], "falseValues": ["False"]}
    return out


def resource(spec: DataFile, raw: bytes) -> dict:
    """The resource of one contract file whose bytes on disk are ``raw``."""
    return {
        "name": Path(spec.name).stem,
        "path": spec.name,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": len(raw),
        "hash": f"sha256:{sha256_bytes(raw)}",
        "description": spec.en,
        "x-description-ko": spec.ko,
        "schema": {"$schema": SCHEMA_PROFILE, "fields": [field(c) for c in spec.columns], "missingValues": [""]},
    }


def package(data_dir: str | Path) -> dict:
    """The package descriptor of the contract files present in ``data_dir`` (see the module doc)."""
    data_dir = Path(data_dir)
    resources = [
        resource(spec, (data_dir / name).read_bytes())
        for name, spec in DATA_FILES.items()
        if (data_dir / name).is_file()
    ]
    return {
        "$schema": PACKAGE_PROFILE,
        "name": "initlab-data",
        "title": "initlab: weight initialization and batch normalization experiments (data)",
        "description": DESCRIPTION["en"],
        "x-description-ko": DESCRIPTION["ko"],
        "licenses": [LICENSE],
        "sources": [dict(s) for s in SOURCES],
        "resources": resources,
    }


def package_bytes(desc: dict) -> bytes:
    """The file's bytes: UTF-8 (Korean kept readable), keys in insertion order, final newline."""
    return (json.dumps(desc, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def write_package(data_dir: str | Path) -> Path:
    """Write ``data_dir/datapackage.json`` for the files present (untouched when its bytes are the same)."""
    path = Path(data_dir) / PACKAGE_FILE
    data = package_bytes(package(data_dir))
    if not path.is_file() or path.read_bytes() != data:
        atomic.write_bytes(path, data)
    return path
