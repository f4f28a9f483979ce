"""`nexa`, the command line: one module per command group over the library API.

`commands` holds the app and `nexa research`; `setup` (setup, ingest, doctor), `threads` (threads, history, resume),
`eval` and `services` register their commands on it; `progress` draws a run's live table.
"""

from nexa_research.cli.commands import app, main, write_report

__all__ = ["app", "main", "write_report"]
