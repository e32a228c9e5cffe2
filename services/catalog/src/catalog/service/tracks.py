"""Tracks: uploads, edits (new audio, new artwork, an album by title), deletion, and the
signed media URLs each caller may have."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Literal

from litestar.datastructures import UploadFile
from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import CatalogContext
from catalog.db import tracks as repo
from catalog.domain import artwork
from catalog.domain.audio import AudioInfo
from catalog.domain.images import ImageInfo
from catalog.domain.media_assets import peaks_key, rendition
from catalog.domain.metadata import UNSET, FieldError, TrackChanges, parse_track_form
from catalog.service import albums, media_jobs
from catalog.service.artwork import remove_all, store_sizes
from catalog.service.events import emit
from catalog.service.uploads import FormReader, read_audio, read_image
from catalog.service.views import public_track, track_deleted, track_snapshot, track_view
from catalog.signing import sign_url
from contracts import ids
from contracts.api.catalog import MAX_TITLE, DeletedTrack, TrackPage
from contracts.dto import PublicTrack, SignedUrl, TrackView
from contracts.errors import ErrorCode
from contracts.events import TrackChanged, TrackSnapshot
from contracts.media import MediaSource
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import Actor

VISIBILITIES = {"public", "private"}
# what a media URL is for: download (the original), playback (renditions), the waveform
Purpose = Literal["attachment", "inline", "peaks"]
EDITABLE = ("title", "features", "tags", "description", "support_gate", "visibility")


async def owned_track(
    session: AsyncSession, track_id: str, org_id: str, owner_id: str, *, lock: bool = False
) -> Any:
    """The caller's own track in this org; anything else is the same 404."""
    row = await repo.get_track(session, track_id, lock=lock)
    if row is None or row.organization_id != org_id or row.owner_id != owner_id:
        raise not_found("track", track_id=track_id)
    return row


async def upload(
    ctx: CatalogContext, org_id: str, actor: Actor, read_form: FormReader
) -> TrackView:
    """A new track: the audio in storage first, then the row, its `created` event and its
    media job in one transaction (the object goes again if that fails)."""
    owner_id = actor.require_user()
    texts, files = await read_form()
    file = files.get("file") or files.get("audio")
    if file is None:
        raise validation_error("multipart field 'file' is required", {"file": "required"})
    title = texts.get("title", "").strip()
    if not title or len(title) > MAX_TITLE:
        raise validation_error(
            "title is required", {"title": f"required, 1-{MAX_TITLE} characters"}
        )
    visibility = texts.get("visibility") or "public"
    if visibility not in VISIBILITIES:
        raise validation_error("bad visibility", {"visibility": "public or private"})
    album_id = texts.get("album_id") or None

    spool, audio = await read_audio(file, ctx.settings.max_upload_bytes, "file")
    if album_id is not None:
        async with ctx.sessions() as session:
            try:
                await albums.owned_album(session, album_id, org_id, owner_id)
            except ApiError as exc:
                raise validation_error(
                    "unknown album", {"album_id": "not an album of yours"}
                ) from exc

    track_id = ids.new_track_id()
    key = f"tracks/{track_id}/audio-{secrets.token_hex(8)}.{audio.extension}"
    await ctx.storage.put(key, spool.file, spool.size, audio.content_type)
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
                    "album_id": album_id,
                    "audio_key": key,
                    **_audio_values(audio),
                },
            )
            await emit(ctx, session, TrackChanged(action="created", track=track_snapshot(row)))
            await media_jobs.enqueue(ctx.outbox, session, track_id, key, "upload")
    except BaseException:
        await ctx.storage.remove(key)  # the row never existed: do not leak the object
        raise
    return track_view(row, ctx.settings)


def _audio_values(audio: AudioInfo) -> dict[str, Any]:
    return {
        "content_type": audio.content_type,
        "size_bytes": audio.size_bytes,
        "duration_seconds": audio.duration_seconds,
        "checksum_sha256": audio.checksum_sha256,
    }


async def list_tracks(ctx: CatalogContext, org_id: str, limit: int, offset: int) -> TrackPage:
    async with ctx.sessions() as session:
        rows, total = await repo.list_org_tracks(session, org_id, limit, offset)
    return TrackPage(
        items=[track_view(r, ctx.settings) for r in rows], total=total, limit=limit, offset=offset
    )


async def get_track(ctx: CatalogContext, org_id: str, track_id: str) -> TrackView:
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None or row.organization_id != org_id:
        raise not_found("track", track_id=track_id)
    return track_view(row, ctx.settings)


@dataclass
class _NewObjects:
    """What an edit put in storage before its transaction, to record or to remove again."""

    audio_key: str | None = None
    audio: AudioInfo | None = None
    image_key: str | None = None
    image: ImageInfo | None = None
    sizes: list[dict[str, Any]] | None = None

    def stored_keys(self) -> list[str]:
        return [k for k in (self.image_key, self.audio_key, *artwork.keys(self.sizes)) if k]


async def update(
    ctx: CatalogContext, org_id: str, track_id: str, actor: Actor, read_form: FormReader
) -> TrackView:
    """Form fields exactly as SPEC lists them; absent fields stay as they are. New audio is
    the same track, a new upload version (a new media job); a new image gets its sizes."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session:
        await owned_track(session, track_id, org_id, owner_id)  # 404 before reading a body
    texts, files = await read_form()
    try:
        changes = parse_track_form(texts)
    except FieldError as exc:
        raise validation_error(str(exc), {exc.field: exc.message}) from exc
    image = files.get("image")
    if image is not None and changes.remove_image:
        raise validation_error(
            "image and remove_image together", {"remove_image": "not with a new image"}
        )
    new = await _store_new_objects(ctx, track_id, files.get("file"), image)
    try:
        async with ctx.sessions() as session, session.begin():
            current = await owned_track(session, track_id, org_id, owner_id, lock=True)
            values = await _track_values(ctx, session, org_id, actor, current, changes, new)
            row = await repo.update_track(session, track_id, values) if values else current
            if new.audio_key is not None:
                await media_jobs.enqueue(ctx.outbox, session, track_id, new.audio_key, "replace")
                row = await repo.get_track(session, track_id)
            if values:
                await emit(ctx, session, TrackChanged(action="updated", track=track_snapshot(row)))
    except BaseException:
        for key in new.stored_keys():
            await ctx.storage.remove(key)
        raise
    ctx.sweeper.wake()
    return track_view(row, ctx.settings)


async def _store_new_objects(
    ctx: CatalogContext, track_id: str, audio_file: UploadFile | None, image: UploadFile | None
) -> _NewObjects:
    new = _NewObjects()
    if audio_file is not None:
        spool, new.audio = await read_audio(audio_file, ctx.settings.max_upload_bytes, "file")
        new.audio_key = f"tracks/{track_id}/audio-{secrets.token_hex(8)}.{new.audio.extension}"
        await ctx.storage.put(new.audio_key, spool.file, spool.size, new.audio.content_type)
    if image is not None:
        spool, new.image = await read_image(image, ctx.settings.max_image_bytes, "image")
        version = secrets.token_hex(8)
        key = f"tracks/{track_id}/artwork-{version}.{new.image.extension}"
        new.sizes = await store_sizes(
            ctx.storage, spool.file, f"tracks/{track_id}/artwork/{version}/", "image"
        )
        try:
            await ctx.storage.put(key, spool.file, spool.size, new.image.content_type)
        except BaseException:
            await remove_all(ctx.storage, new.sizes)
            raise
        new.image_key = key
    return new


async def _track_values(
    ctx: CatalogContext,
    session: AsyncSession,
    org_id: str,
    actor: Actor,
    current: Any,
    changes: TrackChanges,
    new: _NewObjects,
) -> dict[str, Any]:
    """The columns an edit changes; schedules the objects it replaces for removal."""
    values: dict[str, Any] = {
        name: getattr(changes, name) for name in EDITABLE if getattr(changes, name) is not UNSET
    }
    if changes.album is not UNSET:
        if changes.album is None:
            values.update(album_id=None, album_position=None)
        else:
            album, _ = await albums.find_or_create_album(ctx, session, org_id, actor, changes.album)
            if album.id != current.album_id:
                values.update(album_id=album.id, album_position=None)
    if new.image is not None:
        values.update(
            artwork_key=new.image_key,
            artwork_content_type=new.image.content_type,
            artwork_sizes=new.sizes,
        )
    elif changes.remove_image:
        values.update(artwork_key=None, artwork_content_type=None, artwork_sizes=None)
    if new.image is not None or changes.remove_image:
        await repo.schedule_removal(
            session, current.artwork_key, *artwork.keys(current.artwork_sizes)
        )
    if new.audio is not None:
        values.update(audio_key=new.audio_key, **_audio_values(new.audio))
        # the old renditions go when the worker records the new ones
        await repo.schedule_removal(session, current.audio_key)
    return values


async def delete(ctx: CatalogContext, org_id: str, track_id: str, actor: Actor) -> DeletedTrack:
    """Owner only. Its objects are removed by the storage sweeper, which never forgets."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        row = await owned_track(session, track_id, org_id, owner_id, lock=True)
        await repo.delete_track(session, row)
        await emit(ctx, session, track_deleted(row))
    ctx.sweeper.wake()
    return DeletedTrack(id=track_id, deleted=True)


async def snapshot(ctx: CatalogContext, track_id: str) -> TrackSnapshot:
    """For other services (sharing) that already hold a grant: any track by id."""
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None:
        raise not_found("track", track_id=track_id)
    return track_snapshot(row)


async def public(ctx: CatalogContext, track_id: str, viewer: Actor) -> PublicTrack:
    """A public track's page; a private one only for its owner."""
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None or (row.visibility != "public" and row.owner_id != viewer.user_id):
        raise not_found("track", track_id=track_id)
    return public_track(row, ctx.settings)


async def media_url(
    ctx: CatalogContext,
    track_id: str,
    purpose: Purpose,
    *,
    org_id: str | None = None,
    link_id: str | None = None,
) -> SignedUrl:
    """A signed URL for the track's media. With `org_id`, any track of that organization;
    without, public tracks only (the id-only routes serve links and the public page, and
    links never open private tracks). `link_id` binds the URL to the link it goes through."""
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None or (org_id is not None and row.organization_id != org_id):
        raise not_found("track", track_id=track_id)
    if org_id is None and row.visibility != "public":
        raise not_found("track", track_id=track_id)
    if purpose == "attachment":
        return sign_url(ctx.settings, track_id, "audio", purpose, row.content_type, link_id)
    if purpose == "peaks":
        return _peaks(ctx, row, link_id)
    return _playback(ctx, row, link_id)


async def artwork_url(ctx: CatalogContext, track_id: str, link_id: str, size: int) -> SignedUrl:
    """One artwork size of a link's track (a page's image, a card's og:image), bound to the
    link like playback; 404 if the track is not public or has no such size."""
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    item = (
        None
        if row is None or row.visibility != "public"
        else (artwork.find(row.artwork_sizes, size) if row.artwork_key else None)
    )
    if item is None:
        raise not_found("artwork", track_id=track_id, size=size)
    return sign_url(
        ctx.settings,
        track_id,
        "artwork",
        content_type=item["content_type"],
        link_id=link_id,
        size=size,
    )


def _not_ready(row: Any) -> ApiError:
    """The 409 for media that is not there: the reason it never will be, or not yet."""
    if row.processing_state == "failed":
        return ApiError(
            ErrorCode.MEDIA_FAILED,
            f"this track's audio could not be processed: {row.processing_reason}",
            details={"track_id": row.id, "reason": row.processing_reason},
        )
    return ApiError(
        ErrorCode.MEDIA_PROCESSING,
        "this track is still being processed; try again shortly",
        details={"track_id": row.id},
    )


def _peaks(ctx: CatalogContext, row: Any, link_id: str | None) -> SignedUrl:
    """The waveform's URL (the `peaks` asset only), with playback's 409s before it exists."""
    if peaks_key(row) is None:
        raise _not_ready(row)
    return sign_url(ctx.settings, row.id, "peaks", "inline", "application/json", link_id)


def _playback(ctx: CatalogContext, row: Any, link_id: str | None) -> SignedUrl:
    """Playback serves the streaming renditions only (SPEC §7), never the original: 409
    until they exist, or with the reason they never will."""
    aac = rendition(row, "aac")
    if row.processing_state == "failed" or aac is None:
        raise _not_ready(row)
    sources: list[MediaSource] = []
    for name in ("opus", "aac"):
        item = rendition(row, name)
        if item is not None:
            signed = sign_url(ctx.settings, row.id, name, "inline", item["content_type"], link_id)
            sources.append(
                MediaSource(
                    url=signed.url,
                    content_type=f'{item["content_type"]}; codecs="{item["codecs"]}"',
                )
            )
    main = sign_url(ctx.settings, row.id, "aac", "inline", aac["content_type"], link_id)
    return main.model_copy(update={"sources": sources})
