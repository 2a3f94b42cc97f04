"""mariadb-binlog's command line and counting the row changes in its decoded output."""

from __future__ import annotations

from bench.harness.gtid_range import GtidRange
from bench.harness.mariadb_binlog import BinlogRead, count_row_changes, mariadb_binlog_args
from cdc.dsn import parse_dsn

DECODED = """\
#261124  1:25:07 server id 1001  end_log_pos 91735115 CRC32 0xf123cdf5 	GTID 0-1001-4601 trans
### INSERT INTO `bench`.`payments`
### SET
###   @1=7
### UPDATE `bench`.`accounts`
### WHERE
###   @1=3
### SET
###   @1=3
### DELETE FROM `bench`.`payments`
### WHERE
###   @1=5
# Number of rows: 1
"""


def test_the_arguments_read_the_range_remotely_without_the_password() -> None:
    read = BinlogRead(parse_dsn("mysql://cdc_capture:pw-secret@127.0.0.1:13306/"),
                      "mariadb-bin.000002", GtidRange.parse("0-1001-10", "0-1001-20"),
                      "bench_db", "/usr/bin/mariadb-binlog")
    args = mariadb_binlog_args(read)
    assert args[0] == "/usr/bin/mariadb-binlog"
    assert args[-1] == "mariadb-bin.000002"
    for expected in ("--read-from-remote-server", "--to-last-log", "--host=127.0.0.1",
                     "--port=13306", "--user=cdc_capture", "--start-position=0-1001-10",
                     "--stop-position=0-1001-20", "--database=bench_db",
                     "--base64-output=decode-rows", "--verbose"):
        assert expected in args
    assert not any("pw-secret" in arg for arg in args)


def test_each_decoded_row_change_is_counted_once() -> None:
    assert count_row_changes(DECODED.splitlines(keepends=True)) == 3
    assert count_row_changes([]) == 0
