"""Parsing the track PATCH form exactly as SPEC lists it; each error names its field."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from contracts.api.catalog import (  # the bounds the API document states
    MAX_DESCRIPTION as MAX_DESCRIPTION,
)
from contracts.api.catalog import MAX_LIST_JSON as MAX_LIST_JSON
from contracts.api.catalog import MAX_SUPPORT_GATE as MAX_SUPPORT_GATE
from contracts.api.catalog import MAX_TITLE as MAX_TITLE

MAX_TAGS = 20
MAX_TAG = 40
MAX_FEATURES = 20
MAX_NAME = 80
MAX_SUPPORT_GATE_DEPTH = 8
UNSET: Any = object()


class FieldError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass
class TrackChanges:
    """Only the fields present in the form; `UNSET` means leave as is."""

    title: Any = UNSET
    album: Any = UNSET  # album title (found or created), or None to leave its album
    features: Any = UNSET
    tags: Any = UNSET
    description: Any = UNSET
    support_gate: Any = UNSET
    visibility: Any = UNSET
    remove_image: bool = False


def _names(raw: str, field_name: str, limit: int, each: int) -> list[str]:
    if len(raw) > MAX_LIST_JSON:
        raise FieldError(field_name, f"at most {limit} names of up to {each} characters")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise FieldError(field_name, "must be a JSON array of names") from exc
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise FieldError(field_name, "must be a JSON array of names")
    names = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(names) > limit or any(len(n) > each for n in names):
        raise FieldError(field_name, f"at most {limit} names of up to {each} characters")
    return names


def parse_track_form(form: dict[str, str]) -> TrackChanges:
    changes = TrackChanges()
    if "title" in form:
        title = form["title"].strip()
        if not title or len(title) > MAX_TITLE:
            raise FieldError("title", f"1-{MAX_TITLE} characters")
        changes.title = title
    if "album" in form:
        album = form["album"].strip()
        if len(album) > MAX_TITLE:
            raise FieldError("album", f"at most {MAX_TITLE} characters")
        changes.album = album or None
    if "features" in form:
        changes.features = _names(form["features"], "features", MAX_FEATURES, MAX_NAME)
    if "tags" in form:
        changes.tags = _names(form["tags"], "tags", MAX_TAGS, MAX_TAG)
    if "description" in form:
        description = form["description"]
        if len(description) > MAX_DESCRIPTION:
            raise FieldError("description", f"at most {MAX_DESCRIPTION} characters")
        changes.description = description.strip() or None
    if "support_gate" in form:
        raw = form["support_gate"].strip()
        if raw == "null":
            changes.support_gate = None
        elif len(raw) > MAX_SUPPORT_GATE:
            raise FieldError("support_gate", f"at most {MAX_SUPPORT_GATE} characters of JSON")
        else:
            try:
                gate = json.loads(raw)
            except (json.JSONDecodeError, RecursionError) as exc:
                raise FieldError(
                    "support_gate", "must be a JSON object or the string null"
                ) from exc
            if not isinstance(gate, dict):
                raise FieldError("support_gate", "must be a JSON object or the string null")
            if _nests_deeper_than(gate, MAX_SUPPORT_GATE_DEPTH):
                raise FieldError(
                    "support_gate", f"nested at most {MAX_SUPPORT_GATE_DEPTH} levels deep"
                )
            changes.support_gate = gate
    if "visibility" in form:
        if form["visibility"] not in ("public", "private"):
            raise FieldError("visibility", "public or private")
        changes.visibility = form["visibility"]
    if "remove_image" in form:
        flag = form["remove_image"].strip().lower()
        if flag not in ("true", "false"):
            raise FieldError("remove_image", "true or false")
        changes.remove_image = flag == "true"
    return changes


def _nests_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels deep in `value` (`{}` is one
    level). Level by level, not recursively: a 4 KiB gate can nest hundreds of levels."""
    level = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
    return False
