"""The two record types of the data contract: a column (name, type, ko/en description) and a file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    dtype: str  # "str", "int", "float", "bool"
    ko: str
    en: str


@dataclass(frozen=True)
class DataFile:
    name: str
    ko: str
    en: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, dtype, ko, en) -> Column:
    return Column(name, dtype, ko, en)
