"""Internal track endpoints; the gateway has already checked org membership."""

from __future__ import annotations

import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from contracts import ids
from contracts.dto import Page, SignedUrl, TrackView
from contracts.errors import ErrorCode
from contracts.events import TrackChanged, wrap
from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import actor_of
from servicekit.tracing import current_trace_id

from catalog.context import PRODUCER, CatalogContext
from catalog.db import tracks as repo
from catalog.domain import media_tokens
from catalog.domain.audio import NotAudio, UnreadableAudio, inspect_audio

log = logging.getLogger(__name__)

VISIBILITIES = {"public", "private"}
MAX_TITLE = 200


class TrackPage(Page):
    items: list[TrackView]


def _text_field(form: Any, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return str(value)


class OrgTracksController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks"

    @post("/", status_code=201)
    async def upload(
        self, request: Request[Any, Any, Any], org_id: str, ctx: CatalogContext
    ) -> TrackView:
        actor = actor_of(request)
        owner_id = actor.require_user()
        form = await request.form()
        upload = form.get("file") or form.get("audio")
        if not isinstance(upload, UploadFile):
            raise validation_error("multipart field 'file' is required", {"file": "required"})
        title = (_text_field(form, "title") or "").strip()
        if not title or len(title) > MAX_TITLE:
            raise validation_error(
                "title is required", {"title": f"required, 1-{MAX_TITLE} characters"}
            )
        visibility = _text_field(form, "visibility") or "public"
        if visibility not in VISIBILITIES:
            raise validation_error("bad visibility", {"visibility": "public or private"})

        limit = ctx.settings.max_upload_bytes
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise ApiError(
                ErrorCode.PAYLOAD_TOO_LARGE,
                f"audio larger than {limit} bytes",
                details={"max_bytes": limit},
            )
        try:
            audio = inspect_audio(data)
        except NotAudio as exc:
            raise ApiError(
                ErrorCode.UNSUPPORTED_MEDIA_TYPE, str(exc), details={"field": "file"}
            ) from exc
        except UnreadableAudio as exc:
            raise validation_error(str(exc), {"file": "audio could not be read"}) from exc

        track_id = ids.new_track_id()
        key = f"tracks/{track_id}/audio-{secrets.token_hex(8)}.{audio.extension}"
        await ctx.storage.put(key, data, audio.content_type)
        try:
            async with ctx.sessions() as session, session.begin():
                row = await repo.insert_track(
                    session,
                    {
                        "id": track_id,
                        "organization_id": org_id,
                        "owner_id": owner_id,
                        "owner_handle": actor.handle,
                        "owner_display_name": actor.display_name,
                        "title": title,
                        "visibility": visibility,
                        "audio_key": key,
                        "content_type": audio.content_type,
                        "size_bytes": audio.size_bytes,
                        "duration_seconds": audio.duration_seconds,
                        "checksum_sha256": audio.checksum_sha256,
                    },
                )
                await ctx.outbox.add(
                    session,
                    wrap(
                        TrackChanged(action="created", track=repo.snapshot(row)),
                        producer=PRODUCER,
                        trace_id=current_trace_id(),
                    ),
                )
        except BaseException:
            await ctx.storage.remove(key)  # the row never existed: do not leak the object
            raise
        ctx.outbox.notify()
        return repo.track_view(row)

    @get("/")
    async def list_tracks(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> TrackPage:
        async with ctx.sessions() as session:
            rows, total = await repo.list_org_tracks(session, org_id, limit, offset)
        return TrackPage(
            items=[repo.track_view(r) for r in rows], total=total, limit=limit, offset=offset
        )

    @get("/{track_id:str}")
    async def get_track(self, org_id: str, track_id: str, ctx: CatalogContext) -> TrackView:
        async with ctx.sessions() as session:
            row = await repo.get_track(session, track_id)
        if row is None or row.organization_id != org_id:
            raise not_found("track", track_id=track_id)
        return repo.track_view(row)

    @get("/{track_id:str}/playback-url")
    async def playback_url(self, org_id: str, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await _signed_url(ctx, track_id, org_id, "inline")

    @get("/{track_id:str}/download-url")
    async def download_url(self, org_id: str, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await _signed_url(ctx, track_id, org_id, "attachment")


class TracksController(Controller):
    """Lookups by track id alone, for other services (sharing) that already hold a grant."""

    path = "/internal/tracks"

    @get("/{track_id:str}/snapshot")
    async def snapshot(self, track_id: str, ctx: CatalogContext) -> dict[str, Any]:
        async with ctx.sessions() as session:
            row = await repo.get_track(session, track_id)
        if row is None:
            raise not_found("track", track_id=track_id)
        return repo.snapshot(row).model_dump(mode="json")

    @get("/{track_id:str}/playback-url")
    async def playback_url(self, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await _signed_url(ctx, track_id, None, "inline")

    @get("/{track_id:str}/download-url")
    async def download_url(self, track_id: str, ctx: CatalogContext) -> SignedUrl:
        return await _signed_url(ctx, track_id, None, "attachment")


async def _signed_url(
    ctx: CatalogContext, track_id: str, org_id: str | None, disposition: media_tokens.Disposition
) -> SignedUrl:
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None or (org_id is not None and row.organization_id != org_id):
        raise not_found("track", track_id=track_id)
    expires_at = int(time.time()) + ctx.settings.media_url_ttl_seconds
    token = media_tokens.sign(
        media_tokens.MediaGrant(track_id, "audio", disposition, expires_at),
        ctx.settings.media_signing_key.get_secret_value().encode(),
    )
    base = ctx.settings.public_base_url.rstrip("/")
    return SignedUrl(
        url=f"{base}/v1/media/{token}",
        expires_at=datetime.fromtimestamp(expires_at, UTC),
        content_type=row.content_type,
    )
