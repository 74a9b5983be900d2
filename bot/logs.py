"""The service's logs: levels, and their format (`[logging] format`, text or JSON lines).

Every log line is written for operators: what happened, to which record, never what
a resident wrote (their words stay in the database, where erasure reaches them). A
JSON line holds the time, level, logger and message, and any `extra` fields a call
gives (a resident's pseudonym, a broadcast's id); a log collector reads it as it is.
The standard library's logging with a small formatter of our own: a dependency
(python-json-logger) would bring options we do not need for one dozen lines.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# A LogRecord's own attributes; anything else on a record came from `extra`.
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(command: str) -> None:
    """Levels for a command: `run` tells what it does; the others only what goes wrong."""
    logging.basicConfig(
        level=logging.INFO if command == "run" else logging.WARNING, format=TEXT_FORMAT
    )
    # Keep third-party request logs out: their URLs contain the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Every scheduler tick would log twice per job; operators need only problems.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def use_format(name: str) -> None:
    """Write the root logger's lines as `name` says ("text" or "json"), once the
    configuration is read."""
    formatter = JsonLines() if name == "json" else logging.Formatter(TEXT_FORMAT)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
