from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from cdc.snapshot.errors import SnapshotError, SnapshotIntegrityError
from cdc.snapshot.manifest import (
    Anchor,
    EncryptionInfo,
    FileEntry,
    Manifest,
    SourceInfo,
    TableEntry,
    parse_manifest,
    to_json,
)

WHERE = "file:///snapshots/s1/manifest.json"


def _file(name: str, rows: int, size: int, first: Any, last: Any) -> FileEntry:
    return FileEntry(name=name, rows=rows, bytes=size, sha256=f"{rows:064x}", first_key=first,
                     last_key=last)


def _manifest(**changes: Any) -> Manifest:
    values: dict[str, Any] = {
        "snapshot_id": "s1",
        "created_at": datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))),
        "finished_at": datetime(2024, 5, 1, 12, 5, 30, 250000, tzinfo=UTC),
        "source": SourceInfo(name="payments", host="127.0.0.1", port=3306, server_id=1001,
                             flavor="mariadb", version="10.11.6-MariaDB"),
        "anchor": Anchor(gtid_position="0-1001-42", binlog_file="bin.000003",
                         binlog_position=1234, changelog_offset=17),
        "compression": "zstandard",
        "encryption": EncryptionInfo(key_id="0123456789abcdef"),
        "tables": (
            TableEntry(database="shop", table="orders",
                       columns=[{"name": "id", "type": "bigint", "nullable": False},
                                {"name": "note", "type": "text", "nullable": True}],
                       primary_key=("id",), rows=5, bytes=300,
                       files=(_file("shop.orders.0001.avro", 3, 200, [1], [3]),
                              _file("shop.orders.0002.avro", 2, 100, [4], [9]))),
            TableEntry(database="shop", table="empty", columns=[], primary_key=("a", "b"),
                       rows=0, bytes=0, files=()),
        ),
    }
    values.update(changes)
    return Manifest(**values)


def _document() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(to_json(_manifest()))
    return result


def test_round_trip_keeps_every_field() -> None:
    manifest = _manifest()
    parsed = parse_manifest(to_json(manifest), WHERE)
    assert parsed == manifest
    assert parsed.tables[0].files[1].last_key == [9]
    assert parsed.tables[0].columns[1] == {"name": "note", "type": "text", "nullable": True}
    assert parsed.anchor.changelog_offset == 17
    assert parsed.encryption == EncryptionInfo(algorithm="AES-256-GCM", key_id="0123456789abcdef")


def test_json_is_sorted_indented_and_times_are_utc_rfc3339() -> None:
    data = to_json(_manifest())
    text = data.decode()
    assert text.startswith('{\n  "anchor": {\n    "binlog_file": "bin.000003",')
    assert data.endswith(b"}\n")
    document = json.loads(data)
    assert list(document) == sorted(document)
    assert document["created_at"] == "2024-05-01T12:00:00Z"
    assert document["finished_at"] == "2024-05-01T12:05:30.250000Z"
    assert document["format_version"] == 1


def test_unencrypted_without_changelog_offset_round_trips() -> None:
    manifest = _manifest(encryption=None,
                         anchor=Anchor(gtid_position="", binlog_file="bin.000001",
                                       binlog_position=4, changelog_offset=None))
    document = json.loads(to_json(manifest))
    assert document["encryption"] is None
    assert document["anchor"]["changelog_offset"] is None
    assert parse_manifest(to_json(manifest), WHERE) == manifest


def test_totals_add_up_over_tables_and_files() -> None:
    manifest = _manifest()
    assert manifest.total_rows == 5
    assert manifest.total_bytes == 300
    assert [entry.name for entry in manifest.files] == ["shop.orders.0001.avro",
                                                        "shop.orders.0002.avro"]


def test_table_totals_must_match_its_files() -> None:
    with pytest.raises(ValidationError, match="files add up to 5 and 300"):
        TableEntry(database="shop", table="orders", columns=[], primary_key=("id",), rows=6,
                   bytes=300, files=_manifest().tables[0].files)


@pytest.mark.parametrize("cut", [0, 1, 100, -2])
def test_truncated_manifest_is_an_integrity_error_naming_where(cut: int) -> None:
    data = to_json(_manifest())[:cut]
    with pytest.raises(SnapshotIntegrityError, match="manifest file:///snapshots/s1/manifest"):
        parse_manifest(data, WHERE)


def test_garbage_bytes_are_an_integrity_error() -> None:
    with pytest.raises(SnapshotIntegrityError, match="not valid JSON"):
        parse_manifest(b"\xff\xfe\x00garbage", WHERE)
    with pytest.raises(SnapshotIntegrityError, match="not a JSON object"):
        parse_manifest(b"[1, 2]", WHERE)


@pytest.mark.parametrize("path", [
    ("snapshot_id",), ("anchor", "binlog_position"), ("source", "server_id"),
    ("tables", 0, "files", 1, "sha256"), ("tables", 1, "primary_key"), ("encryption",),
    ("format_version",),
])
def test_a_missing_field_is_an_integrity_error_naming_it(path: tuple[str | int, ...]) -> None:
    document = _document()
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    with pytest.raises(SnapshotIntegrityError, match=WHERE) as caught:
        parse_manifest(json.dumps(document).encode(), WHERE)
    assert str(path[-1]) in caught.value.message


@pytest.mark.parametrize(("path", "value"), [
    (("tables", 0, "rows"), "5"),  # a string is never taken for a number
    (("tables", 0, "rows"), 6),  # no longer the sum over its files
    (("tables", 0, "files", 0, "sha256"), "ABC"),
    (("tables", 0, "files", 0, "name"), "../escape"),
    (("source", "port"), 0),
    (("finished_at",), "2024-05-01T11:00:00Z"),  # before created_at
    (("created_at",), "2024-05-01T12:00:00"),  # no offset
    (("encryption", "algorithm"), "AES-128-CBC"),
    (("unexpected",), 1),
])
def test_a_wrong_value_is_an_integrity_error(path: tuple[str | int, ...], value: Any) -> None:
    document = _document()
    parent: Any = document
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    with pytest.raises(SnapshotIntegrityError, match="is invalid"):
        parse_manifest(json.dumps(document).encode(), WHERE)


def test_duplicate_file_names_are_refused() -> None:
    document = _document()
    files = document["tables"][0]["files"]
    files[1]["name"] = files[0]["name"]
    with pytest.raises(SnapshotIntegrityError, match="file name is listed twice"):
        parse_manifest(json.dumps(document).encode(), WHERE)


def test_a_newer_format_is_refused_with_a_clear_message() -> None:
    document = _document()
    document["format_version"] = 2
    document["something_new"] = {"x": 1}
    with pytest.raises(SnapshotError, match="format version 2; this version of cdc reads only "
                                            "version 1") as caught:
        parse_manifest(json.dumps(document).encode(), WHERE)
    assert not isinstance(caught.value, SnapshotIntegrityError)
    assert "newer version" in caught.value.hint


def test_the_snapshot_id_must_be_the_expected_one() -> None:
    data = to_json(_manifest())
    assert parse_manifest(data, WHERE, expected_snapshot_id="s1").snapshot_id == "s1"
    with pytest.raises(SnapshotIntegrityError, match="for snapshot 's1', not 's2'"):
        parse_manifest(data, WHERE, expected_snapshot_id="s2")
