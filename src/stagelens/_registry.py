"""Inspect's entry point into stagelens (`inspect_ai` in pyproject.toml): provider, sandbox, tasks.

The registrations themselves are in `stagelens.evaluate.plugin`; importing them here is what
makes them known to Inspect.
"""

from stagelens.evaluate.plugin import *  # noqa: F403
from stagelens.evaluate.plugin import __all__ as __all__
