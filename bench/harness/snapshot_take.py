"""``cdc snapshot --config F --tables PATTERNS --json`` as a subprocess (untimed here), and
the facts of the snapshot it took."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cdc.errors import CdcError
from cdc.position import GtidPosition


class SnapshotTakeError(CdcError):
    """``cdc snapshot`` failed or printed no summary."""


@dataclass(frozen=True)
class TakenSnapshot:
    snapshot_id: str
    anchor_gtid_position: str
    binlog_file: str
    binlog_position: int
    changelog_offset: int | None
    rows: int
    bytes: int

    @property
    def point(self) -> str:
        """A restore point naming the anchor exactly: ``gtid:`` and the anchor's GTID in its
        first domain. The restore plan resolves a GTID that is a snapshot's anchor but not in
        the changelog to that snapshot, with nothing to replay."""
        gtids = GtidPosition.parse(self.anchor_gtid_position).by_domain
        if not gtids:
            raise SnapshotTakeError(f"snapshot {self.snapshot_id} has an empty anchor",
                                    "the source has written no transaction yet")
        return f"gtid:{gtids[0]}"


def parse_summary(stdout: str) -> TakenSnapshot:
    """The JSON object ``cdc snapshot --json`` prints last."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "snapshot_id" in found:
            anchor = found["anchor"]
            offset = anchor.get("changelog_offset")
            return TakenSnapshot(str(found["snapshot_id"]), str(anchor["gtid_position"]),
                                 str(anchor["binlog_file"]), int(anchor["binlog_position"]),
                                 None if offset is None else int(offset), int(found["rows"]),
                                 int(found["bytes"]))
    raise SnapshotTakeError(f"cdc snapshot printed no JSON summary: {stdout.strip()[-300:]!r}",
                            "run the command by hand with the same config to see why")


def take_snapshot(config_path: Path, tables: str, environment: Mapping[str, str], *,
                  timeout_s: float = 3600, python: str = sys.executable) -> TakenSnapshot:
    command = [python, "-m", "cdc", "snapshot", "--config", str(config_path), "--tables",
               tables, "--json"]
    try:
        done = subprocess.run(command, env=dict(environment), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise SnapshotTakeError(f"cdc snapshot did not finish within {timeout_s:.0f} s",
                                "check the source and the store") from None
    if done.returncode != 0:
        tail = " / ".join(done.stderr.strip().splitlines()[-3:])
        raise SnapshotTakeError(f"cdc snapshot exited with status {done.returncode}: {tail}",
                                f"run {' '.join(command)} by hand")
    return parse_summary(done.stdout)
