"""Exceptions raised by wslab.

`ConfigError` is raised for bad input *before* any process, file or directory
is created; the CLI turns it into a one-line error and exit status 2.
"""

__all__ = ["ConfigError", "IncompleteRunError", "RunError", "WslabError"]


class WslabError(Exception):
    """Base class of every wslab error."""


class ConfigError(WslabError, ValueError):
    """A parameter is outside what is allowed; the message names what is."""


class RunError(WslabError, RuntimeError):
    """A run failed while it was executing (a child process died, a timeout)."""


class IncompleteRunError(WslabError, FileNotFoundError):
    """A run directory is missing, still being written, or was interrupted."""
