"""The pure judgements on server variables: flavor, version, settings, GTIDs, server ids."""

from __future__ import annotations

from cdc.errors import SourceCheckError
from cdc.source_requirements import Flavor
from cdc.startup_checks.problems import Problem, refusal
from cdc.startup_checks.server_checks import (
    binlog_retention_s,
    detect_flavor,
    flavor_problems,
    gtid_problems,
    server_id_problems,
    setting_warnings,
    settings_problems,
    version_number,
)

MARIADB_VERSION = "10.11.19-MariaDB-0+deb12u1-log"
GOOD_MARIADB: dict[str, object] = {
    "version": MARIADB_VERSION, "server_id": "1001", "log_bin": "ON", "binlog_format": "ROW",
    "binlog_row_image": "FULL", "binlog_row_metadata": "FULL", "log_bin_compress": "OFF",
    "gtid_strict_mode": "ON", "gtid_binlog_pos": "0-1001-17",
    "binlog_expire_logs_seconds": "604800",
}


def test_flavor_and_version_from_the_version_string() -> None:
    assert detect_flavor(MARIADB_VERSION) is Flavor.MARIADB
    assert detect_flavor("8.4.3") is Flavor.MYSQL
    assert version_number(MARIADB_VERSION) == (10, 11, 19)
    assert version_number("8.0") == (8, 0, 0)
    assert version_number("garbage") == (0, 0, 0)


def test_a_configured_flavor_must_match_the_server() -> None:
    assert flavor_problems("auto", Flavor.MARIADB, MARIADB_VERSION) == []
    assert flavor_problems("mariadb", Flavor.MARIADB, MARIADB_VERSION) == []
    (problem,) = flavor_problems("mysql", Flavor.MARIADB, MARIADB_VERSION)
    assert problem.what == (f"source.flavor is 'mysql' but the server is mariadb "
                            f"({MARIADB_VERSION})")
    assert 'flavor = "auto" or "mariadb"' in problem.fix


def test_too_old_a_server_is_refused() -> None:
    (problem,) = flavor_problems("auto", Flavor.MARIADB, "10.5.9-MariaDB")
    assert "older than 10.6" in problem.what
    assert "upgrade" in problem.fix
    assert flavor_problems("auto", Flavor.MYSQL, "5.7.44")[0].what.startswith("mysql 5.7.44")
    assert flavor_problems("auto", Flavor.MYSQL, "8.0.36") == []


def test_a_correct_server_has_no_problem_and_no_warning() -> None:
    assert settings_problems(Flavor.MARIADB, GOOD_MARIADB) == []
    assert gtid_problems(Flavor.MARIADB, GOOD_MARIADB) == []
    assert setting_warnings(Flavor.MARIADB, GOOD_MARIADB) == []


def test_every_unmet_setting_is_named_with_its_fix() -> None:
    variables = dict(GOOD_MARIADB, binlog_format="MIXED", binlog_row_image="MINIMAL",
                     binlog_row_metadata="MINIMAL", log_bin_compress="ON")
    problems = settings_problems(Flavor.MARIADB, variables)
    assert [p.what for p in problems] == [
        "binlog_format is MIXED; capture needs ROW",
        "binlog_row_image is MINIMAL; capture needs FULL",
        "binlog_row_metadata is MINIMAL; capture needs FULL",
        "log_bin_compress is ON; capture needs OFF",
    ]
    assert "[mariadbd] binlog-format=ROW" in problems[0].fix
    assert "[mariadbd] log-bin-compress=OFF" in problems[3].fix
    assert all("restart" in p.fix for p in problems)


def test_binlog_off_is_fixed_by_naming_the_binlog_files() -> None:
    (problem,) = settings_problems(Flavor.MARIADB, dict(GOOD_MARIADB, log_bin="OFF"))
    assert problem.what == "log_bin is OFF; capture needs ON"
    assert "[mariadbd] log-bin=<path>/<basename>" in problem.fix


def test_mysql_needs_gtid_mode_and_a_missing_variable_is_named() -> None:
    variables = {key: value for key, value in GOOD_MARIADB.items() if key != "log_bin_compress"}
    variables.update(gtid_mode="OFF", enforce_gtid_consistency="ON",
                     binlog_transaction_compression="OFF")
    del variables["binlog_row_metadata"]
    problems = {p.subject: p.what for p in settings_problems(Flavor.MYSQL, variables)}
    assert problems == {
        "binlog_row_metadata": "binlog_row_metadata is not set on this server",
        "gtid_mode": "gtid_mode is OFF; capture needs ON",
    }


def test_mariadb_without_gtid_binlog_pos_is_too_old() -> None:
    variables = dict(GOOD_MARIADB)
    del variables["gtid_binlog_pos"]
    (problem,) = gtid_problems(Flavor.MARIADB, variables)
    assert "no @@gtid_binlog_pos" in problem.what


def test_warnings_for_gtid_strict_mode_and_short_binlog_retention() -> None:
    variables = dict(GOOD_MARIADB, gtid_strict_mode="OFF", binlog_expire_logs_seconds="3600")
    strict, retention = setting_warnings(Flavor.MARIADB, variables)
    assert strict.startswith("gtid_strict_mode is OFF")
    assert "gtid-strict-mode=ON" in strict
    assert retention.startswith("binlogs are purged after 3600 s")


def test_binlog_retention_from_seconds_or_days() -> None:
    assert binlog_retention_s({"binlog_expire_logs_seconds": "0", "expire_logs_days": "2"}) \
        == 172_800
    assert binlog_retention_s({"binlog_expire_logs_seconds": "0",
                               "expire_logs_days": "0"}) is None
    assert binlog_retention_s({}) is None


def test_the_capture_server_id_must_not_be_the_sources_or_a_replicas() -> None:
    assert server_id_problems(4242, 1001, [7, 8]) == []
    (own,) = server_id_problems(1001, 1001)
    assert own.what == "source.server_id 1001 is the source's own @@server_id"
    assert "CDC_SOURCE__SERVER_ID" in own.fix
    (replica,) = server_id_problems(7, 1001, [7, 8])
    assert "already used by a replica" in replica.what


def test_one_problem_is_the_message_several_are_listed_with_each_fix() -> None:
    one = refusal("the source h:1 is not ready", [Problem("a", "a is wrong", "fix a")])
    assert isinstance(one, SourceCheckError)
    assert (one.message, one.hint, one.exit_status) == ("the source h:1 is not ready: a is "
                                                        "wrong", "fix a", 2)
    two = refusal("the source h:1 is not ready", [Problem("a", "a is wrong", "fix a"),
                                                  Problem("b", "b is wrong", "fix b")])
    assert two.message == "the source h:1 is not ready: 2 problems\n  - a is wrong\n" \
                          "  - b is wrong"
    assert two.hint.endswith("  - a: fix a\n  - b: fix b")
