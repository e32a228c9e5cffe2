"""Object storage for audio and artwork (MinIO in production, S3-compatible anywhere).

The minio SDK is synchronous; calls run in a worker thread so the event loop stays free.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import BinaryIO
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error
from urllib3 import BaseHTTPResponse

from catalog.settings import CatalogSettings

PART_BYTES = 5 * 1024 * 1024  # the smallest part S3 takes


class MediaStorage:
    def __init__(self, settings: CatalogSettings) -> None:
        endpoint = urlparse(settings.s3_endpoint)
        self.bucket = settings.s3_bucket
        self.client = Minio(
            endpoint.netloc,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            secure=endpoint.scheme == "https",
            region=settings.s3_region,
        )

    async def ensure_bucket(self) -> None:
        def ensure() -> None:
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise

        await asyncio.to_thread(ensure)

    async def ping(self) -> None:
        await asyncio.to_thread(self.client.bucket_exists, self.bucket)

    async def put(self, key: str, file: BinaryIO, size: int, content_type: str) -> None:
        """Streams `size` bytes of `file` from its start: one PUT up to 5 MiB, above that a
        multipart upload of 5 MiB parts, one after another. The client reads each part whole
        (to sign it) and holds the last one while it reads the next: 10 MiB at most, where
        parallel parts would add 5 MiB each."""
        file.seek(0)
        await asyncio.to_thread(
            self.client.put_object,
            self.bucket,
            key,
            file,
            size,
            content_type=content_type,
            part_size=PART_BYTES,
            num_parallel_uploads=1,
        )

    async def remove(self, key: str) -> None:
        await asyncio.to_thread(self.client.remove_object, self.bucket, key)

    async def open(self, key: str, offset: int = 0, length: int = 0) -> BaseHTTPResponse:
        return await asyncio.to_thread(
            self.client.get_object, self.bucket, key, offset=offset, length=length
        )


def iter_body(response: BaseHTTPResponse, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
    try:
        yield from response.stream(chunk_size)
    finally:
        response.close()
        response.release_conn()
