"""How a long-running step tells a person what it is doing.

`Progress` takes one line of text per call (`print` by default, `click.echo` on the command
line, a list's `append` in tests). Every layer that trains or evaluates takes one.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[str], None]

__all__ = ["Progress"]
