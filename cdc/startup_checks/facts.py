"""What the start-up checks learned about the source, for capture and ``cdc check``."""

from __future__ import annotations

from dataclasses import dataclass

from cdc.source_requirements import Flavor


@dataclass(frozen=True)
class SourceFacts:
    flavor: Flavor
    version: str
    server_id: int
    """The source's own @@server_id."""
    gtid_binlog_pos: str
    """MariaDB: @@gtid_binlog_pos; MySQL: @@gtid_executed. Empty before the first GTID."""
    binlog_file: str
    binlog_position: int
    warnings: tuple[str, ...] = ()
    tables_without_primary_key: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "flavor": self.flavor.value,
            "version": self.version,
            "server_id": self.server_id,
            "gtid_binlog_pos": self.gtid_binlog_pos,
            "binlog_file": self.binlog_file,
            "binlog_position": self.binlog_position,
            "warnings": list(self.warnings),
            "tables_without_primary_key": list(self.tables_without_primary_key),
        }
