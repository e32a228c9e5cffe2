"""Tracing with OpenTelemetry: W3C `traceparent` across HTTP and Kafka, spans exported as
the standard `OTEL_*` variables say (docs/tracing.md).

Every process installs the SDK's tracer provider (`setup_tracing`), exporter or not: its
spans always carry a fresh W3C trace id, which error envelopes, JSON logs, events and the
`X-Request-ID` response header repeat. Without an exporter (`OTEL_TRACES_EXPORTER` unset or
`none`, the dev default) a trace is sampled only if its caller's `traceparent` says so, so
an unsampled request's spans record nothing: they cost an id and a context switch, not
attributes, events and an export (the public link open answers ~3,600 requests a second).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased
from opentelemetry.trace import format_trace_id
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

log = logging.getLogger(__name__)

# the response header that tells a caller the trace id of its request (the W3C id, 32 hex)
TRACE_HEADER = "X-Request-ID"
TRACEPARENT = "traceparent"  # the W3C header, in HTTP requests and Kafka records

W3C = TraceContextTextMapPropagator()
_IDS = RandomIdGenerator()

tracer = trace.get_tracer("servicekit")  # follows the provider `setup_tracing` installs


def exporters_from_env() -> list[SpanExporter]:
    """The exporters `OTEL_TRACES_EXPORTER` names (comma-separated: otlp, console, none)."""
    names = [n.strip() for n in os.environ.get("OTEL_TRACES_EXPORTER", "none").split(",")]
    exporters: list[SpanExporter] = []
    for name in filter(None, names):
        if name == "otlp":
            # OTLP over HTTP/protobuf: endpoint, headers and timeouts from OTEL_EXPORTER_OTLP_*
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r}")
    return exporters


def setup_tracing(service: str, processors: Sequence[SpanProcessor] = ()) -> None:
    """Install the process's tracer provider (once: a later call keeps the first one).

    `OTEL_SERVICE_NAME` overrides `service`; `OTEL_TRACES_SAMPLER` chooses the sampler when
    there is an exporter. `processors` are added as given (tests: an in-memory exporter)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    exporters = exporters_from_env()
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service}
    provider = TracerProvider(
        resource=Resource.create(attributes),
        # no exporter: record only what a caller asked to sample (it may export elsewhere)
        sampler=None if exporters or processors else ParentBased(ALWAYS_OFF),
    )
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(W3C)  # traceparent only: no baggage crosses our services


def current_trace_id() -> str | None:
    """The W3C trace id (32 hex) of the span this code runs in, if there is one."""
    context = trace.get_current_span().get_span_context()
    return format_trace_id(context.trace_id) if context.is_valid else None


def new_trace_id() -> str:
    """A trace id for an answer given outside any span (Litestar's routing errors)."""
    return format_trace_id(_IDS.generate_trace_id())


def current_traceparent() -> str | None:
    """The `traceparent` header value of the current span: what a record made now, to be
    sent later (an outbox row, a queued visit), carries to continue this trace."""
    return traceparent_of(trace.get_current_span())


def context_of(traceparent: str | None) -> Context:
    """The context a `traceparent` value continues (an empty one for None or garbage)."""
    if not traceparent:
        return Context()
    return W3C.extract({TRACEPARENT: traceparent})


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id a `traceparent` value carries, if it is a valid one."""
    span = trace.get_current_span(context_of(traceparent)).get_span_context()
    return format_trace_id(span.trace_id) if span.is_valid else None


def is_sampled(traceparent: bytes | str | None) -> bool:
    """Whether the trace a `traceparent` value belongs to is recorded: version 00's last
    field, checked without parsing, for loops over many records."""
    return bool(traceparent) and traceparent[-2:] in ("01", b"01")  # type: ignore[index]


@contextmanager
def continued(traceparent: str | None) -> Iterator[None]:
    """Run the block in the trace `traceparent` names (as its caller's child)."""
    token = otel_context.attach(context_of(traceparent))
    try:
        yield
    finally:
        otel_context.detach(token)


def traceparent_of(span: trace.Span) -> str | None:
    """The `traceparent` header value that makes the receiver a child of `span`: W3C
    version 00, as the propagator writes it (formatted here: a third of its cost, on every
    public link open)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
