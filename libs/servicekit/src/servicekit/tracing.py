"""The request's trace id, carried in a context variable, HTTP headers and Kafka headers."""

from __future__ import annotations

from contextvars import ContextVar

from contracts.ids import new_trace_id

TRACE_HEADER = "X-Request-ID"
KAFKA_TRACE_HEADER = "trace_id"

trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)


def current_trace_id() -> str | None:
    return trace_id_var.get()


def ensure_trace_id(incoming: str | None) -> str:
    """Accept a caller's id when it is sane, else mint one; store it for this context."""
    trace_id = (
        incoming if incoming and 0 < len(incoming) <= 128 and incoming.isprintable() else None
    )
    trace_id = trace_id or new_trace_id()
    trace_id_var.set(trace_id)
    return trace_id
