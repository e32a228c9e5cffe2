"""Internal track endpoints; the gateway has already checked org membership."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import Parameter

from catalog import artwork, media_jobs
from catalog.api.albums import find_or_create_album, owned_album
from catalog.context import CatalogContext
from catalog.db import tracks as repo
from catalog.domain.metadata import UNSET, FieldError, parse_track_form
from catalog.events.publish import emit
from catalog.signing import sign_url
from catalog.uploads import form_of, read_audio, read_image
from contracts import ids
from contracts.api.catalog import MAX_TITLE, DeletedTrack, TrackPage
from contracts.dto import PublicTrack, SignedUrl, TrackView
from contracts.errors import ErrorCode
from contracts.events import TrackChanged, TrackDeleted, TrackSnapshot
from contracts.media import MediaSource
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import actor_of

VISIBILITIES = {"public", "private"}


async def owned_track(
    session: Any, track_id: str, org_id: str, owner_id: str, *, lock: bool = False
) -> Any:
    """The caller's own track in this org; anything else is the same 404."""
    row = await repo.get_track(session, track_id, lock=lock)
    if row is None or row.organization_id != org_id or row.owner_id != owner_id:
        raise not_found("track", track_id=track_id)
    return row


class OrgTracksController(Controller):
    path = "/internal/orgs/{org_id:str}/tracks"

    @post("/", status_code=201)
    async def upload(
        self, request: Request[Any, Any, Any], org_id: str, ctx: CatalogContext
    ) -> TrackView:
        actor = actor_of(request)
        owner_id = actor.require_user()
        texts, files = await form_of(request)
        upload = files.get("file") or files.get("audio")
        if upload is None:
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

        spool, audio = await read_audio(upload, ctx.settings.max_upload_bytes, "file")
        if album_id is not None:
            async with ctx.sessions() as session:
                try:
                    await owned_album(session, album_id, org_id, owner_id)
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
                        "content_type": audio.content_type,
                        "size_bytes": audio.size_bytes,
                        "duration_seconds": audio.duration_seconds,
                        "checksum_sha256": audio.checksum_sha256,
                    },
                )
                await emit(ctx, session, TrackChanged(action="created", track=repo.snapshot(row)))
                await media_jobs.enqueue(ctx.outbox, session, track_id, key, "upload")
        except BaseException:
            await ctx.storage.remove(key)  # the row never existed: do not leak the object
            raise
        return repo.track_view(row, ctx.settings)

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
            items=[repo.track_view(r, ctx.settings) for r in rows],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get("/{track_id:str}")
    async def get_track(self, org_id: str, track_id: str, ctx: CatalogContext) -> TrackView:
        async with ctx.sessions() as session:
            row = await repo.get_track(session, track_id)
        if row is None or row.organization_id != org_id:
            raise not_found("track", track_id=track_id)
        return repo.track_view(row, ctx.settings)

    @patch("/{track_id:str}")
    async def update(
        self, request: Request[Any, Any, Any], org_id: str, track_id: str, ctx: CatalogContext
    ) -> TrackView:
        """Form fields exactly as SPEC lists them; absent fields stay as they are."""
        actor = actor_of(request)
        owner_id = actor.require_user()
        async with ctx.sessions() as session:
            await owned_track(session, track_id, org_id, owner_id)  # 404 before reading a body
        texts, files = await form_of(request)
        try:
            changes = parse_track_form(texts)
        except FieldError as exc:
            raise validation_error(str(exc), {exc.field: exc.message}) from exc
        image = files.get("image")
        if image is not None and changes.remove_image:
            raise validation_error(
                "image and remove_image together", {"remove_image": "not with a new image"}
            )
        replacement = files.get("file")  # new audio: the same track, a new upload version
        new_audio_key: str | None = None
        if replacement is not None:
            audio_spool, audio = await read_audio(
                replacement, ctx.settings.max_upload_bytes, "file"
            )
            new_audio_key = f"tracks/{track_id}/audio-{secrets.token_hex(8)}.{audio.extension}"
            await ctx.storage.put(
                new_audio_key, audio_spool.file, audio_spool.size, audio.content_type
            )
        new_key = None
        new_sizes: list[dict[str, Any]] | None = None
        if image is not None:
            spool, info = await read_image(image, ctx.settings.max_image_bytes, "image")
            version = secrets.token_hex(8)
            new_key = f"tracks/{track_id}/artwork-{version}.{info.extension}"
            new_sizes = await artwork.store_sizes(
                ctx.storage, spool.file, f"tracks/{track_id}/artwork/{version}/", "image"
            )
            try:
                await ctx.storage.put(new_key, spool.file, spool.size, info.content_type)
            except BaseException:
                await artwork.remove_all(ctx.storage, new_sizes)
                raise
        try:
            async with ctx.sessions() as session, session.begin():
                current = await owned_track(session, track_id, org_id, owner_id, lock=True)
                values: dict[str, Any] = {
                    name: getattr(changes, name)
                    for name in (
                        "title",
                        "features",
                        "tags",
                        "description",
                        "support_gate",
                        "visibility",
                    )
                    if getattr(changes, name) is not UNSET
                }
                if changes.album is not UNSET:
                    if changes.album is None:
                        values.update(album_id=None, album_position=None)
                    else:
                        album, _ = await find_or_create_album(
                            ctx, session, org_id, actor, changes.album
                        )
                        if album.id != current.album_id:
                            values.update(album_id=album.id, album_position=None)
                if new_key is not None:
                    values.update(
                        artwork_key=new_key,
                        artwork_content_type=info.content_type,
                        artwork_sizes=new_sizes,
                    )
                elif changes.remove_image:
                    values.update(artwork_key=None, artwork_content_type=None, artwork_sizes=None)
                if new_key is not None or changes.remove_image:
                    await repo.schedule_removal(
                        session, current.artwork_key, *artwork.keys(current.artwork_sizes)
                    )
                if new_audio_key is not None:
                    values.update(
                        audio_key=new_audio_key,
                        content_type=audio.content_type,
                        size_bytes=audio.size_bytes,
                        duration_seconds=audio.duration_seconds,
                        checksum_sha256=audio.checksum_sha256,
                    )
                    # the old renditions go when the worker records the new ones
                    await repo.schedule_removal(session, current.audio_key)
                row = await repo.update_track(session, track_id, values) if values else current
                if new_audio_key is not None:
                    await media_jobs.enqueue(
                        ctx.outbox, session, track_id, new_audio_key, "replace"
                    )
                    row = await repo.get_track(session, track_id)
                if values:
                    await emit(
                        ctx, session, TrackChanged(action="updated", track=repo.snapshot(row))
                    )
        except BaseException:
            for key in (new_key, new_audio_key, *artwork.keys(new_sizes)):
                if key is not None:
                    await ctx.storage.remove(key)
            raise
        ctx.sweeper.wake()
        return repo.track_view(row, ctx.settings)

    @delete("/{track_id:str}", status_code=200)
    async def delete_track(
        self, request: Request[Any, Any, Any], org_id: str, track_id: str, ctx: CatalogContext
    ) -> DeletedTrack:
        """Owner only. Its objects are removed by the storage sweeper, which never forgets."""
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            row = await owned_track(session, track_id, org_id, owner_id, lock=True)
            await repo.delete_track(session, row)
            await emit(
                ctx,
                session,
                TrackDeleted(
                    track_id=row.id,
                    organization_id=row.organization_id,
                    owner_id=row.owner_id,
                    deleted_at=datetime.now(UTC),
                ),
            )
        ctx.sweeper.wake()
        return DeletedTrack(id=track_id, deleted=True)

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
    async def snapshot(self, track_id: str, ctx: CatalogContext) -> TrackSnapshot:
        async with ctx.sessions() as session:
            row = await repo.get_track(session, track_id)
        if row is None:
            raise not_found("track", track_id=track_id)
        return repo.snapshot(row)

    @get("/{track_id:str}/public")
    async def public(
        self, request: Request[Any, Any, Any], track_id: str, ctx: CatalogContext
    ) -> PublicTrack:
        """A public track's page; a private one only for its owner."""
        async with ctx.sessions() as session:
            row = await repo.get_track(session, track_id)
        if row is None or (
            row.visibility != "public" and row.owner_id != actor_of(request).user_id
        ):
            raise not_found("track", track_id=track_id)
        return repo.public_track(row, ctx.settings)

    @get("/{track_id:str}/playback-url")
    async def playback_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        """For sharing: the URL is bound to the link it is given through (required)."""
        return await _signed_url(ctx, track_id, None, "inline", link_id)

    @get("/{track_id:str}/download-url")
    async def download_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        return await _signed_url(ctx, track_id, None, "attachment", link_id)

    @get("/{track_id:str}/peaks-url")
    async def peaks_url(
        self, track_id: str, ctx: CatalogContext, link_id: str = Parameter(query="linkId")
    ) -> SignedUrl:
        """For sharing: the waveform of a link's track, bound to the link like playback."""
        return await _signed_url(ctx, track_id, None, "peaks", link_id)

    @get("/{track_id:str}/public-playback-url")
    async def public_playback_url(self, track_id: str, ctx: CatalogContext) -> SignedUrl:
        """For the gateway's public track page: a public track's streaming renditions,
        bound to no link (a private track is not found; 409 until the renditions exist)."""
        return await _signed_url(ctx, track_id, None, "inline")

    @get("/{track_id:str}/artwork-url")
    async def artwork_url(
        self,
        track_id: str,
        ctx: CatalogContext,
        link_id: str = Parameter(query="linkId"),
        size: int = Parameter(query="size", ge=1, le=10_000),
    ) -> SignedUrl:
        """For sharing: one artwork size of a link's track (a page's image, a card's
        og:image), bound to the link like playback; 404 if the track has no such size."""
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


async def _signed_url(
    ctx: CatalogContext,
    track_id: str,
    org_id: str | None,
    disposition: Any,
    link_id: str | None = None,
) -> SignedUrl:
    async with ctx.sessions() as session:
        row = await repo.get_track(session, track_id)
    if row is None or (org_id is not None and row.organization_id != org_id):
        raise not_found("track", track_id=track_id)
    if org_id is None and row.visibility != "public":
        # the id-only route serves links, and links never open private tracks
        raise not_found("track", track_id=track_id)
    if disposition == "attachment":
        return sign_url(ctx.settings, track_id, "audio", disposition, row.content_type, link_id)
    if disposition == "peaks":
        return peaks(ctx, row, link_id)
    return playback(ctx, row, link_id)


def not_ready(row: Any) -> ApiError:
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


def peaks(ctx: CatalogContext, row: Any, link_id: str | None) -> SignedUrl:
    """The waveform's URL (the `peaks` asset only), with playback's 409s before it exists."""
    if row.processing_state != "ready" or not (row.media or {}).get("peaks_key"):
        raise not_ready(row)
    return sign_url(ctx.settings, row.id, "peaks", "inline", "application/json", link_id)


def playback(ctx: CatalogContext, row: Any, link_id: str | None) -> SignedUrl:
    """Playback serves the streaming renditions only (SPEC §7), never the original: 409
    until they exist, or with the reason they never will."""
    aac = repo.rendition(row, "aac")
    if row.processing_state == "failed" or aac is None:
        raise not_ready(row)
    sources: list[MediaSource] = []
    for name in ("opus", "aac"):
        item = repo.rendition(row, name)
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
