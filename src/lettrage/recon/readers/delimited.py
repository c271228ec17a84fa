"""Delimited text (CSV and its cousins): header, records with their line numbers, columns by name.

- The separator is the one of `, ; TAB | ^` that splits the header line most (outside quotes),
  unless the format or the hotel's mapping fixes it.
- Quoted values may hold separators and line breaks; a record's line number is the line it
  starts on (the header is line 1 when it is the first line).
- Blank lines are skipped. A record with fewer fields than the header (a truncated line) or more
  (an unquoted separator, another delimiter) becomes a reject naming the counts; empty trailing
  fields are tolerated.
- Column names are compared normalised (case, accents, punctuation: `N° TPE` = `n_tpe`), and each
  format lists the names it accepts for each field (`Columns`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass

from lettrage.recon.readers import UnreadableFile
from lettrage.recon.readers.conventions import normalise_name
from lettrage.recon.readers.records import Record

SEPARATORS = [",", ";", "\t", "|", "^"]
csv.field_size_limit(10_000_000)


def split_outside_quotes(line: str, sep: str) -> int:
    count, quoted = 0, False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif ch == sep and not quoted:
            count += 1
    return count


def sniff_separator(line: str, candidates: list[str] = SEPARATORS) -> str:
    counts = {sep: split_outside_quotes(line, sep) for sep in candidates}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else candidates[0]


@dataclass
class Table:
    header: list[str]           # as written
    names: list[str]            # normalised
    header_line: int
    records: list[Record]
    separator: str


def read_table(text: str, path, separator: str | None = None,
               is_header: Callable[[list[str]], bool] | None = None, header: bool = True,
               skip_lines: int = 0, column_names: list[str] | None = None) -> Table:
    """Split delimited text into a header and records (fields keyed by normalised column name).

    `is_header` finds the header among the first lines (reports may start with a title or a
    metadata block); without it the first non-blank line after `skip_lines` is the header.
    With `header=False`, `column_names` name the columns by position."""
    lines = physical_lines(text)
    start = skip_lines
    while start < len(lines) and not lines[start].strip():
        start += 1
    if start >= len(lines):
        raise UnreadableFile(path, "the file is empty" if not skip_lines else "no lines after the title lines")
    if header and is_header is not None:
        for i in range(start, min(len(lines), start + 30)):
            sep = separator or sniff_separator(lines[i])
            if is_header([c.strip() for c in next(csv.reader([lines[i]], delimiter=sep))]):
                start = i
                break
    sep = separator or sniff_separator(lines[start])
    reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=sep, quotechar='"')
    offset = start  # reader.line_num counts from 1 at lines[start]
    try:
        if header:
            head = [c.strip().lstrip("\ufeff") for c in next(reader)]
            header_line = offset + 1
        else:
            head = list(column_names or [])
            header_line = offset
            reader = csv.reader(io.StringIO("\n".join(lines[start:])), delimiter=sep, quotechar='"')
        names = [normalise_name(h) for h in head]
        records = []
        previous_end = reader.line_num
        for values in reader:
            first, last = offset + previous_end + 1, offset + reader.line_num
            previous_end = reader.line_num
            if not any(v.strip() for v in values):
                continue
            record = _record(values, first, names, sep, header)
            if "__problem__" in record.fields and last > first:
                # A stray quote swallowed the lines after it: take them one by one again.
                for n in range(first, last + 1):
                    one = next(csv.reader([lines[n - 1]], delimiter=sep), [])
                    if any(v.strip() for v in one):
                        records.append(_record(one, n, names, sep, header))
                continue
            records.append(record)
    except csv.Error as exc:
        raise UnreadableFile(path, f"not readable as delimited text: {exc}", line=offset + reader.line_num) from exc
    return Table(head, names, header_line, records, sep)


def _record(values: list[str], line_no: int, names: list[str], sep: str, header: bool) -> Record:
    width = len(values)
    while width > len(names) and not values[width - 1].strip():
        width -= 1
    record = Record(line_no, sep.join(values),
                    {name: (values[i].strip() if i < len(values) else None) for i, name in enumerate(names)})
    if width < len(names) and header:
        record.fields = {"__problem__": f"only {width} of the {len(names)} fields of the header (truncated line?)"}
    elif width > len(names):
        record.fields = {"__problem__": f"{width} fields where the header has {len(names)} "
                                        f"(a separator inside a value, or another delimiter?)"}
    return record


def physical_lines(text: str) -> list[str]:
    """Lines split on CR LF, LF or CR only (str.splitlines also splits on characters such as
    U+0085 that Latin-1 text may hold inside a value)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


class Columns:
    """Which column of a file holds each field: `aliases` maps a field to the names it may have."""

    def __init__(self, table: Table, aliases: dict[str, list[str]], path, required: list[str] = (),
                 one_of: list[list[str]] = ()):
        self.table = table
        wanted = {field: [normalise_name(a) for a in [field, *names]] for field, names in aliases.items()}
        self.column: dict[str, str] = {}
        for field, names in wanted.items():
            for name in names:
                if name in table.names:
                    self.column[field] = name
                    break
        missing = [f for f in required if f not in self.column]
        missing += [" or ".join(group) for group in one_of if not any(f in self.column for f in group)]
        if missing:
            hint = ""
            if len(table.header) == 1:
                hint = f"; the header is one column: is the separator {table.separator!r} right?"
            raise UnreadableFile(path, f"missing columns: {', '.join(missing)} (the header has: "
                                       f"{', '.join(table.header[:30])}){hint}", line=table.header_line)

    def has(self, field: str) -> bool:
        return field in self.column

    def get(self, fields: dict, field: str) -> str | None:
        name = self.column.get(field)
        if name is None:
            return None
        value = fields.get(name)
        return value if value not in ("",) else None


