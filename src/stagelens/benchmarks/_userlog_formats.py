"""Streaming readers and schemas for conversation logs (helpers of ``userlogs``).

Files are read row by row (JSONL line by line, JSON arrays element by element, Parquet
batch by batch) while the raw bytes are hashed, so memory stays bounded by one row and the
sha256 is of the bytes actually parsed. A row that cannot be used becomes a ``BadRow``
with its reason; the caller counts and reports it.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, TypedDict

from stagelens.errors import UserError

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Schema = Literal["wildchat", "sharegpt", "openai", "prompt"]
SCHEMAS: tuple[Schema, ...] = ("wildchat", "sharegpt", "openai", "prompt")
# the list field that holds each conversational schema's turns
TURNS_KEY: dict[Schema, str] = {
    "wildchat": "conversation",
    "sharegpt": "conversations",
    "openai": "messages",
}
_ROLES: dict[Schema, dict[str, str]] = {
    "wildchat": {"user": "user", "assistant": "assistant", "system": "system"},
    # some ShareGPT exports already use the chat-template role names
    "sharegpt": {
        "human": "user",
        "user": "user",
        "gpt": "assistant",
        "assistant": "assistant",
        "system": "system",
    },
    "openai": {
        "system": "system",
        "developer": "system",
        "user": "user",
        "assistant": "assistant",
        "tool": "tool",
        "function": "tool",
    },
}
_TEXT_PARTS = ("text", "input_text", "output_text")
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16
_Stream = io.BufferedReader | gzip.GzipFile
# A JSON array element that does not decode within this many characters is malformed: stop
# rather than buffer the rest of the file looking for its end.
_MAX_ELEMENT = 1 << 26


class UserLogError(UserError, ValueError):
    """A log file that cannot be read at all; the message names the file and line."""


class Message(TypedDict):
    role: str
    content: str


@dataclass(frozen=True)
class BadRow:
    """Why a row was not used: "category: detail", the category being what notes count."""

    reason: str


class RowError(Exception):
    """Raised while interpreting one row; becomes a ``BadRow``, never stops the read."""


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


class _HashingReader(io.RawIOBase):
    """Hashes every byte read through it, so the hash is of the bytes that were parsed."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self._raw.read(len(view))
        view[: len(data)] = data
        self.sha.update(data)
        return len(data)

    def drain(self) -> str:
        """Hash whatever the parser left unread (a trailer) and return the hex digest."""
        while chunk := self._raw.read(_CHUNK):
            self.sha.update(chunk)
        return self.sha.hexdigest()


@dataclass
class LogFile:
    """One log file; ``rows()`` streams it and sets ``sha256`` once it is read to the end."""

    path: Path
    sha256: str | None = None
    container: str = field(init=False, default="")

    def rows(self) -> Iterator[tuple[int, object]]:
        """(line, row) pairs; a row is a dict, a str (JSON array of strings) or a BadRow."""
        name = self.path.name.lower()
        if name.endswith((".parquet", ".pq")):
            yield from self._parquet()
            return
        with self.path.open("rb") as raw:
            hashing = _HashingReader(raw)
            stream: _Stream = io.BufferedReader(hashing, _CHUNK)
            compressed = name.endswith(".gz") or stream.peek(2)[:2] == b"\x1f\x8b"
            if compressed:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")
                name = name.removesuffix(".gz")
            try:
                yield from self._text_rows(stream, name)
            except (OSError, EOFError, zlib.error) as err:
                raise UserLogError(f"{self.path}: corrupt compressed stream ({err})") from err
            self.sha256 = hashing.drain()
        self.container += ".gz" if compressed else ""

    def _text_rows(self, stream: _Stream, name: str) -> Iterator[tuple[int, object]]:
        if name.endswith((".csv", ".tsv")):
            self.container = "csv"
            yield from self._csv(stream, "\t" if name.endswith(".tsv") else ",")
            return
        head = stream.peek(_CHUNK).removeprefix(_BOM).lstrip()[:1]
        # JSONL by name even when its first row is an array: that row is then reported
        if name.endswith((".jsonl", ".ndjson")):
            self.container = "jsonl"
            yield from self._jsonl(stream)
        elif head == b"[":
            self.container = "json"
            yield from self._json_array(stream)
        elif head == b"{" or name.endswith((".jsonl", ".ndjson", ".json")):
            self.container = "jsonl"
            yield from self._jsonl(stream)
        else:
            raise UserLogError(
                f"{self.path}: not a JSONL, JSON array, CSV or Parquet file "
                f"(it starts with {head!r}); give one of .jsonl, .jsonl.gz, .json, .csv, .parquet"
            )

    def _jsonl(self, stream: _Stream) -> Iterator[tuple[int, object]]:
        # Binary lines split on b"\n" only; str.splitlines would also split on U+2028
        # inside JSON strings, which JSON allows raw.
        for line, data in enumerate(stream, start=1):
            if line == 1:
                data = data.removeprefix(_BOM)
            if not data.strip():
                continue
            try:
                yield line, json.loads(data.rstrip(b"\r\n").decode("utf-8"))
            except UnicodeDecodeError as err:
                yield line, BadRow(f"not UTF-8: byte {err.start}")
            except json.JSONDecodeError as err:
                yield line, BadRow(f"malformed JSON: {err.msg} (column {err.colno})")

    def _csv(self, stream: _Stream, delimiter: str) -> Iterator[tuple[int, object]]:
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        reader = csv.DictReader(text, delimiter=delimiter)
        try:
            for row in reader:
                # line_num is where the record ends: right for one-line rows, and within
                # the record for rows with quoted newlines.
                yield reader.line_num, {k: v for k, v in row.items() if k is not None}
        except (csv.Error, UnicodeDecodeError) as err:
            where = f"{self.path}:{reader.line_num + 1}"
            raise UserLogError(f"{where}: unreadable CSV ({err})") from err

    def _json_array(self, stream: _Stream) -> Iterator[tuple[int, object]]:
        """Elements of a top-level JSON array, decoded one at a time from a sliding buffer."""
        text = io.TextIOWrapper(stream, encoding="utf-8-sig")
        decoder = json.JSONDecoder()
        buf, pos, line, eof, want = "", 0, 1, False, _CHUNK

        def fill() -> None:
            nonlocal buf, pos, eof, want
            buf, pos = buf[pos:], 0
            chunk = text.read(want)
            eof = not chunk
            buf += chunk
            # an element longer than a chunk: read more at a time, so re-decoding from
            # its start stays linear in its length
            want *= 2

        def skip_space() -> str:
            nonlocal pos, line
            while True:
                while pos < len(buf) and buf[pos].isspace():
                    line += buf[pos] == "\n"
                    pos += 1
                if pos < len(buf) or eof:
                    return buf[pos : pos + 1]
                fill()

        fill()
        if skip_space() != "[":
            raise UserLogError(f"{self.path}:{line}: expected a JSON array")
        pos += 1
        expect_item = True
        while True:
            char = skip_space()
            if char == "]" or not char:
                break
            if not expect_item:
                if char != ",":
                    raise UserLogError(f"{self.path}:{line}: expected ',' or ']' in the array")
                pos += 1
                expect_item = True
                continue
            try:
                value, end = decoder.raw_decode(buf, pos)
                # a number ending at the buffer's end may continue in the next chunk
                if end == len(buf) and not eof:
                    raise json.JSONDecodeError("truncated", buf, end)
            except json.JSONDecodeError as err:
                if eof or len(buf) - pos > _MAX_ELEMENT:
                    raise UserLogError(
                        f"{self.path}:{line}: malformed JSON array element ({err.msg}); "
                        "a JSON array cannot be resynchronised, so reading stops here"
                    ) from None
                fill()
                continue
            yield line, value
            line += buf.count("\n", pos, end)
            pos, want, expect_item = end, _CHUNK, False
        if skip_space() != "]":
            raise UserLogError(f"{self.path}:{line}: the JSON array is not closed")
        pos += 1
        if skip_space():
            raise UserLogError(f"{self.path}:{line}: text after the end of the JSON array")

    def _parquet(self) -> Iterator[tuple[int, object]]:
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UserLogError(
                f"{self.path}: reading Parquet needs pyarrow, which is not installed; "
                "install pyarrow or convert the file to JSONL"
            ) from None
        self.container = "parquet"
        try:
            parquet = pq.ParquetFile(self.path)
            names = parquet.schema_arrow.names
        except Exception as err:  # pyarrow raises its own ArrowInvalid/OSError family
            raise UserLogError(f"{self.path}: unreadable Parquet file ({err})") from err
        # Only the columns that are read: real logs carry large moderation columns.
        wanted = [*TURNS_KEY.values(), "prompt", "text", "language"]
        columns = [c for c in names if c in wanted]
        if not columns:
            raise UserLogError(f"{self.path}: unknown format: no known column; columns {names}")
        line = 0
        for batch in parquet.iter_batches(batch_size=256, columns=columns):
            for row in batch.to_pylist():
                line += 1
                yield line, row
        # pyarrow reads by seeking; hash the bytes in a separate streamed pass
        sha = hashlib.sha256()
        with self.path.open("rb") as raw:
            while chunk := raw.read(_CHUNK):
                sha.update(chunk)
        self.sha256 = sha.hexdigest()


def detect_schema(row: object) -> Schema | None:
    """The schema a row's keys say it has; None if they match none."""
    if isinstance(row, str):
        return "prompt"
    if not isinstance(row, dict):
        return None
    for schema, key in TURNS_KEY.items():
        if key in row:
            return schema
    return "prompt" if "prompt" in row or "text" in row else None


def parse_messages(row: object, schema: Schema) -> list[Message]:
    """The row's messages as {role, content}; raises RowError naming the bad field."""
    if schema == "prompt":
        if isinstance(row, str):
            return [{"role": "user", "content": row}]
        if not isinstance(row, dict):
            raise RowError(f"wrong type: the row is a JSON {_kind(row)}, expected an object")
        key = "prompt" if row.get("prompt") is not None else "text"
        value = row.get(key)
        if value is None:
            raise RowError("missing field: 'prompt' (or 'text')")
        if not isinstance(value, str):
            raise RowError(f"wrong type: field {key!r} is {_kind(value)}, expected a string")
        return [{"role": "user", "content": value}]
    key = TURNS_KEY[schema]
    if not isinstance(row, dict):
        raise RowError(f"wrong type: the row is a JSON {_kind(row)}, expected an object")
    turns = row.get(key)
    if turns is None:
        raise RowError(f"missing field: {key!r}")
    if not isinstance(turns, list):
        raise RowError(f"wrong type: field {key!r} is {_kind(turns)}, expected a list")
    role_key, text_key = ("from", "value") if schema == "sharegpt" else ("role", "content")
    roles = _ROLES[schema]
    messages: list[Message] = []
    for i, turn in enumerate(turns):
        where = f"{key}[{i}]"
        if not isinstance(turn, dict):
            raise RowError(f"wrong type: {where} is {_kind(turn)}, expected an object")
        role = turn.get(role_key)
        if not isinstance(role, str):
            raise RowError(f"wrong type: {where}.{role_key} is {_kind(role)}, expected a string")
        if role.lower() not in roles:
            raise RowError(f"unknown role: {where}.{role_key} is {role!r}; known {sorted(roles)}")
        mapped = roles[role.lower()]
        content = _content(turn.get(text_key), f"{where}.{text_key}", mapped)
        messages.append({"role": mapped, "content": content})
    return messages


def _content(value: object, where: str, role: str) -> str:
    if isinstance(value, str):
        return value
    # assistant turns that only call tools carry no text
    if value is None and role in ("assistant", "tool"):
        return ""
    if not isinstance(value, list):
        raise RowError(f"wrong type: {where} is {_kind(value)}, expected a string or text parts")
    texts = []
    for j, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in _TEXT_PARTS:
            # a prompt with an image or audio cannot be replayed as text faithfully
            raise RowError(f"non-text content: {where}[{j}] has type {kind!r}")
        text = part.get("text")
        if not isinstance(text, str):
            raise RowError(f"wrong type: {where}[{j}].text is {_kind(text)}, expected a string")
        texts.append(text)
    return "\n".join(texts)


def row_language(row: object) -> str | None:
    """The row's recorded top-level language, if any."""
    value = row.get("language") if isinstance(row, dict) else None
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RowError(f"wrong type: field 'language' is {_kind(value)}, expected a string")
    return value.strip()


# Names as WildChat and LMSYS write them, keyed by ISO 639-1 code, so "en" matches "English".
_LANGUAGES = {
    "ar": "arabic", "de": "german", "en": "english", "es": "spanish", "fa": "persian",
    "fr": "french", "hi": "hindi", "id": "indonesian", "it": "italian", "ja": "japanese",
    "ko": "korean", "nl": "dutch", "pl": "polish", "pt": "portuguese", "ru": "russian",
    "sv": "swedish", "tr": "turkish", "uk": "ukrainian", "vi": "vietnamese", "zh": "chinese",
}  # fmt: skip


def language_key(value: str) -> str:
    """A comparable form: "English", "english", "en" and "en-US" all give "english"."""
    folded = value.strip().casefold()
    code = folded.replace("_", "-").split("-")[0]
    return _LANGUAGES.get(code, folded)


def normalise(text: str) -> str:
    """The dedupe key: case-folded, whitespace runs collapsed to one space."""
    return " ".join(text.casefold().split())


class DigestSet:
    """A set of 64-bit text digests in one flat array (8-byte slots, 11-17 bytes a member).

    Dedupe must remember every distinct row of a file that may hold millions; Python's set
    of str would hold all their text. A 64-bit collision (two different texts counted as
    duplicates) has probability about n**2 / 2**65: 3e-8 for a million rows.
    """

    _LOAD = 0.7

    def __init__(self) -> None:
        self._slots = array("Q", [0]) * 1021
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def add(self, text: str) -> bool:
        """Add ``text``; True if it was not there before."""
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        # 0 marks an empty slot
        key = int.from_bytes(digest, "little") or 1
        if self._n + 1 > self._LOAD * len(self._slots):
            self._grow()
        return self._insert(self._slots, key)

    def _insert(self, slots: array[int], key: int) -> bool:
        size = len(slots)
        i = key % size
        while slots[i]:
            if slots[i] == key:
                return False
            i = i + 1 if i + 1 < size else 0
        slots[i] = key
        self._n += 1
        return True

    def _grow(self) -> None:
        # x1.5 rather than x2, with modulo indexing: the peak during a resize (old + new
        # table) stays near 2.5 times the live table rather than 3 times
        # array * n allocates once; array("Q", bytes(...)) would hold a second copy
        old, self._slots = self._slots, array("Q", [0]) * (len(self._slots) * 3 // 2 | 1)
        self._n = 0
        for key in old:
            if key:
                self._insert(self._slots, key)
