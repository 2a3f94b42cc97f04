"""Plain-text tables for the benchmarks' reports. Pure."""

from __future__ import annotations


def text_table(rows: list[tuple[str, ...]], *, right: frozenset[int]) -> str:
    """Columns padded to their widest cell, those in ``right`` aligned right; a rule under
    the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    text = []
    for number, row in enumerate(rows):
        cells = [cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
                 for i, cell in enumerate(row)]
        text.append("  ".join(cells).rstrip())
        if number == 0:
            text.append("  ".join("-" * width for width in widths))
    return "\n".join(text)
