"""Log lines: one JSON object per line (or plain text for a terminal), each carrying the id
of the HTTP request it was written for.

Which of the two is chosen by :func:`choose_format`: ``auto`` writes text to a terminal and
JSON anywhere else (a file, a pipe, a collector). Either way a line carries the fields its
caller passed in ``extra`` (``dead_lettered`` with its source and reason, ...): JSON as
fields, text as ``key=value`` after the message.

The request id lives in a context variable that the API's middleware sets for the life of a
request, so every line written while serving it (in the event loop or in a worker thread
that FastAPI runs with a copy of the context) names the request. Lines written outside a
request carry ``"request_id": null``.

Nothing here logs a request body: bodies hold personal data.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

import orjson

LogFormat = Literal["json", "text"]
FormatSetting = Literal["auto", "json", "text"]

_request_id: ContextVar[str | None] = ContextVar("journey_request_id", default=None)

ACCESS_LOGGER = "journey.access"
"""The logger of the one line per HTTP request (method, route, status, duration)."""

ACCESS_FIELDS = ("method", "route", "status", "duration_ms", "key_id")
"""Attributes an access line passes in ``extra``; the JSON line carries them as fields."""

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}
"""Record attributes that are not fields of a line (uvicorn's ``color_message`` repeats
``msg`` with terminal colours)."""

_NOISY = ("kafka", "aiokafka", "httpx", "httpcore")
"""Client libraries whose DEBUG lines print record values (personal data), or whose INFO
lines repeat what ours say (httpx: a line per batch ``--url`` posts, beside the progress
line): warnings and worse only, whatever the level."""


def choose_format(setting: FormatSetting, stream: TextIO | None = None) -> LogFormat:
    """``setting`` itself, or for ``auto`` text when ``stream`` (stderr by default) is a
    terminal and JSON when it is not."""
    if setting != "auto":
        return setting
    target = stream if stream is not None else sys.stderr
    try:
        terminal = target.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        terminal = False
    return "text" if terminal else "json"


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _request_id.get()


def bind_request_id(request_id: str) -> Token[str | None]:
    """Name the request served in this context; give the token to :func:`unbind_request_id`."""
    return _request_id.set(request_id)


def unbind_request_id(token: Token[str | None]) -> None:
    _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts`` (UTC, ISO 8601, milliseconds), ``level``,
    ``logger``, ``msg``, ``request_id``, the fields a caller passed in ``extra`` (an access
    line: method, route, status, duration_ms, key_id) and ``exc`` with the traceback of a
    logged exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in line:
                line[name] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(line, default=str).decode()


def _shown(value: object) -> str:
    """A field's value in a text line: bare when it is one plain word, else as JSON."""
    if isinstance(value, str) and value and not any(c.isspace() or c in '="' for c in value):
        return value
    if isinstance(value, int | float | bool) or value is None:
        return str(value)
    return orjson.dumps(value, default=str).decode()


class TextFormatter(logging.Formatter):
    """``time level logger message [request_id=...] key=value ...`` for people at a
    terminal: the fields a caller passed in ``extra``, after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        fields = " ".join(
            f"{name}={_shown(value)}"
            for name, value in record.__dict__.items()
            if name not in _STANDARD and name != "request_id"
        )
        head, _, rest = text.partition("\n")
        if request_id:
            head = f"{head} request_id={request_id}"
        if fields:
            head = f"{head} {fields}"
        return f"{head}\n{rest}" if rest else head


class _Stderr:
    """Whatever ``sys.stderr`` is when a line is written (a test may have replaced it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(
    log_format: LogFormat,
    level: str | int = logging.INFO,
    stream: TextIO | None = None,
    *,
    libraries: int = logging.WARNING,
) -> logging.Handler:
    """Route every logger (uvicorn's too, if it is run with ``log_config=None``) to one
    handler on ``stream`` (stderr by default) in ``log_format``; returns the handler.
    Calling it again replaces the handler it installed before. The Kafka client's own
    loggers write ``libraries`` and worse only (a one-shot command passes CRITICAL: its
    own error names what failed, once)."""
    handler = logging.StreamHandler(stream if stream is not None else _Stderr())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_journey", False):
            root.removeHandler(old)
    handler._journey = True  # type: ignore[attr-defined]  # ours, to replace on a new call
    root.addHandler(handler)
    root.setLevel(level)
    for name in _NOISY:
        logging.getLogger(name).setLevel(max(libraries, logging.WARNING))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # Our handler on the root writes their lines; uvicorn's access lines are replaced
        # by ours (``journey.access``), which name the route template and the request id.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True
    return handler
