"""The server settings capture depends on, per flavor, and how to compare them.

Pure data and logic: the start-up checks, the local stack's tests and the docker-compose test
all read the same table, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Flavor(Enum):
    MARIADB = "mariadb"
    MYSQL = "mysql"


@dataclass(frozen=True)
class RequiredSetting:
    variable: str
    value: str
    why: str

    def hint(self, flavor: Flavor) -> str:
        option = self.variable.replace("_", "-")
        # log-bin takes the binlog's base name; 'log-bin=ON' would name the files ON.000001.
        value = "<folder>/<basename>" if self.variable == "log_bin" else self.value
        return (
            f"set {self.variable}={self.value} in the server's configuration "
            f"([{'mariadbd' if flavor is Flavor.MARIADB else 'mysqld'}] {option}={value}) "
            f"and restart it; {self.why}"
        )


_COMMON = (
    RequiredSetting("log_bin", "ON", "without a binlog there is nothing to capture"),
    RequiredSetting("binlog_format", "ROW", "statement events carry no row values"),
    RequiredSetting("binlog_row_image", "FULL", "capture needs every column before and after"),
    RequiredSetting("binlog_row_metadata", "FULL", "column names and types come from it"),
)
_BY_FLAVOR = {
    Flavor.MARIADB: (
        RequiredSetting("log_bin_compress", "OFF",
                        "the binlog reader drops compressed events without a word"),
    ),
    Flavor.MYSQL: (
        RequiredSetting("gtid_mode", "ON", "the resume position is a GTID"),
        RequiredSetting("enforce_gtid_consistency", "ON", "required by gtid_mode=ON"),
        RequiredSetting("binlog_transaction_compression", "OFF",
                        "the binlog reader drops compressed events without a word"),
    ),
}

_SYNONYMS = {"1": "ON", "0": "OFF", "TRUE": "ON", "FALSE": "OFF"}


def required_settings(flavor: Flavor) -> tuple[RequiredSetting, ...]:
    return _COMMON + _BY_FLAVOR[flavor]


def normalize_setting(value: object) -> str:
    """Server variables come back as 'ON', '1', 1 or 'row'; compare them in one spelling."""
    text = str(value).strip().upper()
    return _SYNONYMS.get(text, text)


def unmet_settings(
    flavor: Flavor, actual: dict[str, object]
) -> list[tuple[RequiredSetting, str | None]]:
    """Each required setting whose actual value differs (None when the server lacks it)."""
    unmet: list[tuple[RequiredSetting, str | None]] = []
    for setting in required_settings(flavor):
        found = actual.get(setting.variable)
        if found is None:
            unmet.append((setting, None))
        elif normalize_setting(found) != setting.value:
            unmet.append((setting, normalize_setting(found)))
    return unmet
