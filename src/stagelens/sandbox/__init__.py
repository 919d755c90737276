"""Sandboxes for agentic evals: a bubblewrap Inspect provider (`bwrap`) and its selection."""

from stagelens.sandbox.bwrap import BwrapSandboxEnvironment, BwrapSandboxError
from stagelens.sandbox.config import BwrapConfig, load_config
from stagelens.sandbox.select import NoSandboxError, bwrap_problem, default_sandbox

__all__ = [
    "BwrapConfig",
    "BwrapSandboxEnvironment",
    "BwrapSandboxError",
    "NoSandboxError",
    "bwrap_problem",
    "default_sandbox",
    "load_config",
]
