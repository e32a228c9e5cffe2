"""Create catalog's bucket if it does not exist yet (idempotent).

Runs in the catalog image (which ships the `minio` SDK) and reads the same ENCORE_S3_*
variables as catalog itself, so the bucket it creates is the one catalog will use. Catalog
also ensures the bucket at start-up; doing it here first means a catalog pod never needs more
than read/write rights on an existing bucket, and a wrong endpoint or credential shows up as
one failed Job instead of crash-looping service pods.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlparse

from minio import Minio
from minio.error import S3Error
from urllib3.exceptions import HTTPError

ATTEMPTS = 60  # MinIO may still be starting


def main() -> int:
    endpoint = urlparse(os.environ["ENCORE_S3_ENDPOINT"])
    bucket = os.environ.get("ENCORE_S3_BUCKET", "encore-media")
    client = Minio(
        endpoint.netloc,
        access_key=os.environ["ENCORE_S3_ACCESS_KEY"],
        secret_key=os.environ["ENCORE_S3_SECRET_KEY"],
        secure=endpoint.scheme == "https",
        region=os.environ.get("ENCORE_S3_REGION", "us-east-1"),
    )
    for attempt in range(1, ATTEMPTS + 1):
        try:
            if client.bucket_exists(bucket):
                print(f"bucket {bucket} already exists", flush=True)
            else:
                client.make_bucket(bucket)
                print(f"bucket {bucket} created", flush=True)
            return 0
        except S3Error as exc:
            if exc.code in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                return 0
            raise  # wrong credentials or policy: retrying will not help
        except (OSError, HTTPError) as exc:  # connection refused, DNS not ready yet, ...
            if attempt == ATTEMPTS:
                raise
            print(f"object storage not reachable yet ({type(exc).__name__}); retrying", flush=True)
            time.sleep(2)
    return 1


if __name__ == "__main__":
    sys.exit(main())
