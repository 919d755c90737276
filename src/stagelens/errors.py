"""Errors that mean "the input is wrong", reported to users without a traceback."""


class UserError(Exception):
    """Bad input: the message names the file, line or field, and how to fix it."""
