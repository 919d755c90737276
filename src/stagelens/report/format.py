"""Formatting shared by the report's page and its headline: percentages, points, escaping."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from html import escape
from typing import Any

from stagelens.report.figures import SHORT_NAMES, STAGE_LABELS


def one_decimal(x: float) -> float:
    # A value that rounds to zero is zero, unsigned: never "-0.0".
    v = round(x * 100, 1)
    return 0.0 if v == 0 else v


def fmt_pct(x: float | None, *, signed: bool = False) -> str:
    """A rate as a percentage with one decimal; ``n/a`` when undefined. A value that rounds to
    zero prints as an unsigned "0.0%", never "-0.0%" (nor "+0.0%")."""
    if x is None:
        return "n/a"
    v = one_decimal(x)
    return f"{v:+.1f}%" if signed and v != 0 else f"{v:.1f}%"


def fmt_points(x: float | None) -> str:
    """A difference of rates in percentage points, signed unless it rounds to zero."""
    if x is None:
        return "n/a"
    v = one_decimal(x)
    return f"{v:+.1f} pts" if v != 0 else "0.0 pts"


def with_resampling(method: str, n_boot: int | None, seed: int | None) -> str:
    """A method's name with its bootstrap size and seed, each said once: a method that already
    names them ("..., B=10000") does not get them again."""
    extra = []
    if n_boot is not None and not re.search(r"\bB\s*=", method):
        extra.append(f"B={n_boot}")
    if seed is not None and not re.search(r"\bseed\b", method):
        extra.append(f"seed {seed}")
    return method + (f" ({', '.join(extra)})" if extra else "")


def ci(lo: float | None, hi: float | None, fmt: Callable[[float | None], str] = fmt_pct) -> str:
    if lo is None or hi is None:
        return "n/a"
    return f"{fmt(lo)} to {fmt(hi)}"


def e(value: object) -> str:
    return escape(str(value), quote=True)


def table(headers: Iterable[str], rows: Iterable[Iterable[str]], numeric: set[int]) -> str:
    """Cells in ``rows`` must already be HTML (escaped by the caller)."""
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def kv(mapping: Mapping[str, Any]) -> str:
    if not mapping:
        return "—"
    return "<br>".join(f"<code>{e(k)}</code> = {e(v)}" for k, v in mapping.items())


def stage_name(name: str) -> str:
    label: str = STAGE_LABELS.get(name, name)
    return label


def short(name: str) -> str:
    return SHORT_NAMES.get(name, name)


def badge(verdict: str) -> str:
    return f'<span class="badge v-{e(verdict)}">{e(verdict)}</span>'


__all__ = ["badge", "ci", "e", "fmt_pct", "fmt_points", "kv", "one_decimal", "short",
           "stage_name", "table", "with_resampling"]
