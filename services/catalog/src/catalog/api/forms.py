"""Reading a form body into text fields and files, for the handlers that take uploads."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from catalog.service.uploads import Form, FormReader
from servicekit.errors import validation_error


async def form_of(request: Request[Any, Any, Any]) -> Form:
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


def reader(request: Request[Any, Any, Any]) -> FormReader:
    """The form, read only when called: a service checks what it can (a 404) before the
    body is read."""

    async def read() -> Form:
        return await form_of(request)

    return read
