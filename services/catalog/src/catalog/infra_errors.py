"""Which errors are the platform's, not the file's: an outage of Postgres, S3 or Kafka.

The media worker retries those by redelivery and never lets them fail a track; only the
file's own errors (a rejection, a decode crash that recurs) count toward `failed`.
"""

from __future__ import annotations

import av
from aiokafka.errors import KafkaConnectionError
from minio.error import S3Error, ServerError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from urllib3.exceptions import HTTPError as TransportError


def is_infrastructure_error(exc: BaseException) -> bool:
    if isinstance(exc, av.FFmpegError):
        return False  # PyAV maps some decode failures onto OSError: those are the file's
    if isinstance(exc, OSError | TransportError | KafkaConnectionError | ServerError):
        return True  # refused/reset/timed-out connections, S3 5xx after the client's retries
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, S3Error):
        return exc.response is not None and exc.response.status >= 500
    return False
