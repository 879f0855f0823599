"""Our snake_case names are dlt's, key for key: a warehouse dlt wrote gets no second column."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from dlt.common.normalizers.naming.snake_case import NamingConvention

from ghlsync.extract.naming import default_pipelines_dir, snake_case
from ghlsync.extract.streams import STREAMS

ODD = [
    "id",
    "locationId",
    "location_id",
    "dndSettings",
    "SMS",
    "HTTPResponse",
    "dateOfBirth",
    "address1",
    "1stPlace",
    "__private",
    "trailing__",
    "a__b",
    "with space",
    " padded ",
    "e-mail",
    "plus+minus-",
    "a*b",
    "user@host",
    "pipe|x",
    "Ünïcode",
    "contact.id",
    "ABC",
    "aB",
    "AbcDEF",
    "x__",
    "_",
    "__",
    "9",
    "custom_field_values.membership_status",
    "camelCaseURLValue",
    "UPPER_CASE",
    "mixed_Case_Name",
    "tab\tkey",
    "dot.ted.key",
]


def _corpus() -> list[str]:
    names = list(ODD)
    for stream in STREAMS.values():
        names.extend((stream.json_schema.get("properties") or {}).keys())
    alphabet = "abcXYZ019_-+*@| .éß"
    rng = random.Random(17)
    names += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(2000)]
    return [n for n in names if n.strip()]


def test_names_match_dlts_snake_case() -> None:
    dlt_naming = NamingConvention()
    differ = [(n, snake_case(n), dlt_naming.normalize_identifier(n)) for n in _corpus()]
    assert [d for d in differ if d[1] != d[2]] == []


def test_a_blank_name_is_refused_as_dlt_refuses_it() -> None:
    with pytest.raises(ValueError):
        snake_case("   ")


def test_pipelines_dir_is_dlts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from dlt.common.pipeline import get_dlt_pipelines_dir

    monkeypatch.setenv("DLT_DATA_DIR", str(tmp_path / "data"))
    assert default_pipelines_dir() == Path(get_dlt_pipelines_dir()) == tmp_path / "data/pipelines"
    monkeypatch.delenv("DLT_DATA_DIR")
    assert default_pipelines_dir() == Path(get_dlt_pipelines_dir())
