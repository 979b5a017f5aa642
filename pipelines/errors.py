"""The error every command that loads reports as bad input (exit status 2).

Apart from `pipelines.loader` so that the CLI can catch it without importing the load
stack: `export --due` runs from cron every minute.
"""

from __future__ import annotations


class LoadError(RuntimeError):
    """The load cannot run (unreadable file, missing required columns, bad mapping)."""
