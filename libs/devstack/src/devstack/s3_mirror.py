"""Keeps the dev stack's S3 objects on disk, because moto holds them only in memory.

`make run` restores `.data/s3/<bucket>/<key>` into moto at start, copies new objects out
every few seconds while it runs, and once more when it stops. Only the dev stack uses
this; tests get a fresh, empty S3.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from pathlib import Path
from urllib.parse import urlparse

from minio import Minio

log = logging.getLogger("devstack")


class S3Mirror:
    def __init__(self, endpoint: str, access_key: str, secret_key: str, root: Path) -> None:
        parsed = urlparse(endpoint)
        self.client = Minio(
            parsed.netloc,
            access_key=access_key,
            secret_key=secret_key,
            secure=parsed.scheme == "https",
            region="us-east-1",
        )
        self.root = root
        self._saved: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def restore(self) -> int:
        restored = 0
        if not self.root.exists():
            return 0
        for bucket_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            bucket = bucket_dir.name
            if not self.client.bucket_exists(bucket):
                self.client.make_bucket(bucket)
            for path in bucket_dir.rglob("*"):
                if path.is_file():
                    key = path.relative_to(bucket_dir).as_posix()
                    result = self.client.fput_object(bucket, key, str(path))
                    self._saved.add((bucket, key, result.etag or ""))
                    restored += 1
        return restored

    def save(self) -> int:
        """Copy every object not yet on disk (or changed since) into the mirror."""
        written = 0
        with self._lock:
            for bucket in self.client.list_buckets():
                seen: set[str] = set()
                for obj in self.client.list_objects(bucket.name, recursive=True):
                    if obj.object_name is None:
                        continue
                    seen.add(obj.object_name)
                    marker = (bucket.name, obj.object_name, obj.etag or "")
                    if marker in self._saved:
                        continue
                    target = self.root / bucket.name / obj.object_name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    self.client.fget_object(bucket.name, obj.object_name, str(target))
                    self._saved.add(marker)
                    written += 1
                for path in (
                    (self.root / bucket.name).rglob("*")
                    if (self.root / bucket.name).exists()
                    else []
                ):
                    key = path.relative_to(self.root / bucket.name).as_posix()
                    if path.is_file() and key not in seen:
                        path.unlink()
        return written

    def start_background_sync(self, interval: float = 3.0) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.save()
                except Exception as exc:
                    log.warning("s3 mirror sync failed: %r", exc)

        self._thread = threading.Thread(target=loop, name="s3-mirror", daemon=True)
        self._thread.start()

    def stop_background_sync(self) -> None:
        self._stop.set()
        if self._thread is not None:
            with contextlib.suppress(RuntimeError):
                self._thread.join(timeout=5)

    def save_and_forget(self) -> None:
        """`save` for shutdown hooks, which want no result."""
        self.save()
