"""The dashboard's forms as posted (every field text, so a bad value becomes a message on
the form, not a refusal), and their translation into the API's own option models."""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from contracts.api.sharing import CreatePackLink
from contracts.dto import CreateTrackLink


class LoginForm(BaseModel):
    key: str = ""
    csrf: str = ""


class CsrfForm(BaseModel):
    csrf: str = ""


class TrackLinkForm(BaseModel):
    csrf: str = ""
    track_id: str = ""
    visibility: str = "link_only"
    expires_in_days: str = ""


class PackLinkForm(BaseModel):
    csrf: str = ""
    pack_id: str = ""
    name: str = ""
    access_code: str = ""
    disable_downloads: str = ""  # a checkbox: present ("on") or absent
    expires_in_days: str = ""
    grantees: str = ""  # handles, separated by commas or spaces


def _days(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw else None


def problems(exc: ValidationError | ValueError) -> dict[str, str]:
    if isinstance(exc, ValidationError):
        return {
            str(error["loc"][0]) if error["loc"] else "form": error["msg"] for error in exc.errors()
        }
    return {"expires_in_days": "a whole number of days"}


def track_link_options(form: TrackLinkForm) -> CreateTrackLink:
    """Raises ValidationError / ValueError with what is wrong."""
    options: dict[str, object] = {"visibility": form.visibility}
    days = _days(form.expires_in_days)
    if days is not None:
        options["expires_in_days"] = days
    return CreateTrackLink.model_validate(options)


def pack_link_options(form: PackLinkForm) -> CreatePackLink:
    options: dict[str, object] = {"disable_downloads": bool(form.disable_downloads)}
    if form.name.strip():
        options["name"] = form.name.strip()
    if form.access_code:
        options["access_code"] = form.access_code
    days = _days(form.expires_in_days)
    if days is not None:
        options["expires_in_days"] = days
    grantees = [h for h in form.grantees.replace(",", " ").split() if h]
    if grantees:
        options["grantees"] = grantees
    return CreatePackLink.model_validate(options)
