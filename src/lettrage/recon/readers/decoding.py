"""Turning a delivered file's bytes into text, whatever its encoding.

Hotels' systems write UTF-8 (with or without a byte-order mark), UTF-16 (with a BOM, as Excel
"Unicode text" does) or Windows-1252 / Latin-1 (most Windows PMS and terminal software).
The order of the tries matters: valid UTF-8 is almost never accidental, so it is tried first;
Windows-1252 next (it is Latin-1 plus the euro sign and curly quotes in 0x80-0x9F); Latin-1
last, which decodes any byte. A file with NUL bytes and no UTF-16 mark is binary (a zip, a PDF,
a spreadsheet), not an export: it is refused, never guessed.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

from lettrage.recon.readers import UnreadableFile

BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def decode_bytes(data: bytes, path: Path | str, encoding: str | None = None) -> SourceText:
    if encoding:
        try:
            return SourceText(data.decode(encoding), encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise UnreadableFile(path, f"not {encoding} text as the hotel's settings say ({exc})") from exc
    for bom, name in BOMS:
        if data.startswith(bom):
            try:
                return SourceText(data.decode(name).lstrip("\ufeff"), name)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(path, f"starts with a {name} mark but is not {name} text ({exc.reason} "
                                           f"at byte {exc.start})") from exc
    if b"\x00" in data[:SNIFF_BYTES]:
        raise UnreadableFile(path, "binary content (NUL bytes): not a text export; wrong file or wrong "
                                   "encoding (UTF-16 without its byte-order mark?)")
    for name in ("utf-8", "cp1252", "latin-1"):
        try:
            return SourceText(data.decode(name), name)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def read_text(path: Path, encoding: str | None = None) -> SourceText:
    """The whole file as text; an empty file is unreadable."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be opened: {exc.strerror}") from exc
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise UnreadableFile(path, "the file is empty")
    return decode_bytes(data, path, encoding)


def head_text(path: Path, size: int = SNIFF_BYTES) -> str:
    """The beginning of a file as text, for recognising its format (never raises)."""
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(size)
    except OSError:
        return ""
    try:
        return decode_bytes(data, path).text
    except UnreadableFile:
        return ""
