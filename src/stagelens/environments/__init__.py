"""Agentic evaluation environments (problems, workspaces and detectors, no sandbox code).

Each environment is written against Inspect's generic `SandboxEnvironment` interface, so it runs
in whichever sandbox the task configures.
"""
