"""structlog JSON logs for the service, and Faust's own stdlib logs through the same renderer.

Payment ids are bound per event; names and account numbers never reach info-level logs (they
are in the audit stream, which is the record of what was screened).
"""

from __future__ import annotations

import logging
from typing import Any

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.processors.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure(level: str = "info") -> dict[str, Any]:
    """Configure structlog; return the logging dictConfig Faust should use for its own loggers."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(),
                ],
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.add_logger_name],
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {"aiokafka": {"level": "WARNING"}, "faust": {"level": max(level.upper(), "INFO", key=_rank)}},
    }


def _rank(level: str) -> int:
    return int(logging.getLevelName(level))


def get_logger(name: str = "screener") -> Any:
    return structlog.get_logger(name)
