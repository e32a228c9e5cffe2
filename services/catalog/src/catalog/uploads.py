"""Reading uploaded files from a multipart form, bounded in size, with clear errors."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from catalog.domain.images import ImageInfo, NotAnImage, inspect_image
from contracts.errors import ErrorCode
from servicekit.errors import ApiError, validation_error


async def read_limited(upload: UploadFile, limit: int, field: str) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise ApiError(
            ErrorCode.PAYLOAD_TOO_LARGE,
            f"{field} larger than {limit} bytes",
            details={"field": field, "max_bytes": limit},
        )
    return data


async def read_image(upload: UploadFile, limit: int, field: str) -> tuple[bytes, ImageInfo]:
    data = await read_limited(upload, limit, field)
    try:
        return data, inspect_image(data)
    except NotAnImage as exc:
        raise ApiError(
            ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc), details={"field": field}
        ) from exc


async def form_of(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, UploadFile]]:
    """Split a multipart/urlencoded form into text fields and files; 422 if it is not a form."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise validation_error("expected a form body", {"body": "multipart/form-data required"})
    try:
        form = await request.form()
    except UnicodeDecodeError as exc:
        raise validation_error("form fields must be UTF-8", {"body": "not UTF-8"}) from exc
    texts: dict[str, str] = {}
    files: dict[str, UploadFile] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            files[key] = value
        else:
            texts[key] = str(value)
    return texts, files
