"""Pieces of the benchmarks: pure measurement arithmetic and formatting, and one runner per
tool measured (``mariadb-binlog``, the binlog library, ``cdc capture``)."""
