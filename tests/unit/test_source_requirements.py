from __future__ import annotations

from cdc.source_requirements import Flavor, normalize_setting, required_settings, unmet_settings

GOOD_MARIADB = {"log_bin": "ON", "binlog_format": "ROW", "binlog_row_image": "FULL",
                "binlog_row_metadata": "FULL", "log_bin_compress": "OFF"}


def test_a_correct_mariadb_has_nothing_unmet() -> None:
    assert unmet_settings(Flavor.MARIADB, dict(GOOD_MARIADB)) == []


def test_wrong_and_missing_settings_are_reported_with_what_was_found() -> None:
    actual: dict[str, object] = dict(GOOD_MARIADB, binlog_format="MIXED", log_bin_compress=1)
    del actual["binlog_row_metadata"]
    unmet = {s.variable: found for s, found in unmet_settings(Flavor.MARIADB, actual)}
    assert unmet == {"binlog_format": "MIXED", "binlog_row_metadata": None,
                     "log_bin_compress": "ON"}


def test_values_compare_in_one_spelling() -> None:
    assert [normalize_setting(v) for v in ("1", 0, "row", " on ", "True")] == [
        "ON", "OFF", "ROW", "ON", "ON"]


def test_hints_name_the_setting_the_config_section_and_the_restart() -> None:
    setting = next(s for s in required_settings(Flavor.MYSQL) if s.variable == "gtid_mode")
    hint = setting.hint(Flavor.MYSQL)
    assert "[mysqld] gtid-mode=ON" in hint
    assert "restart" in hint
