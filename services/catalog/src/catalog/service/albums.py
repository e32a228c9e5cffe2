"""Albums (plyr.fm semantics, done right): idempotent shells, append-only finalize,
exactly one `album.released`, covers, renames that keep old slugs working."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from catalog.context import CatalogContext
from catalog.db import albums as repo
from catalog.db import tracks as tracks_repo
from catalog.domain import artwork
from catalog.domain.slugs import is_valid_slug, slugify
from catalog.domain.track_lists import new_positions, require_album_tracks, require_distinct
from catalog.service.artwork import remove_all, store_sizes
from catalog.service.events import emit
from catalog.service.uploads import FormReader, read_image
from catalog.service.views import (
    album_changed,
    album_detail,
    album_summary,
    track_deleted,
    track_snapshot,
)
from contracts import ids
from contracts.api.catalog import CreateAlbum, DeletedAlbum, RemovedAlbumTrack, UpdateAlbum
from contracts.dto import AlbumDetail, AlbumPage, AlbumSummary
from contracts.errors import ErrorCode
from contracts.events import AlbumReleased, TrackChanged
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import Actor


async def find_or_create_album(
    ctx: CatalogContext,
    session: AsyncSession,
    org_id: str,
    actor: Actor,
    title: str,
    slug: str | None = None,
    description: str | None = None,
) -> tuple[Any, bool]:
    """In the caller's transaction; shared by album creation and the track PATCH `album`
    field. The same (artist, slug) finds the existing album, which must be in this org."""
    owner_id = actor.require_user()
    slug = slug or slugify(title)
    if not is_valid_slug(slug):
        raise validation_error(
            "invalid slug", {"slug": "lowercase letters, digits and single dashes"}
        )
    row, created = await repo.create_shell(
        session,
        {
            "id": ids.new_album_id(),
            "organization_id": org_id,
            "owner_id": owner_id,
            "owner_handle": actor.handle or owner_id,
            "owner_display_name": actor.display_name,
            "slug": slug,
            "title": title.strip(),
            "description": description,
        },
    )
    if row.organization_id != org_id:
        raise ApiError(
            ErrorCode.CONFLICT,
            "you already have an album with this slug in another organization",
            details={"slug": row.slug},
        )
    if created:
        await emit(ctx, session, album_changed(row, "created"))
    return row, created


async def owned_album(
    session: AsyncSession, album_id: str, org_id: str, owner_id: str, *, lock: bool = False
) -> Any:
    """The caller's own album in this org; anything else is the same 404."""
    row = await repo.get_album(session, album_id, lock=lock)
    if row is None or row.organization_id != org_id or row.owner_id != owner_id:
        raise not_found("album", album_id=album_id)
    return row


async def create(
    ctx: CatalogContext, org_id: str, actor: Actor, data: CreateAlbum
) -> tuple[AlbumSummary, bool]:
    """An empty shell, and whether it is new (the same slug again returns the existing one)."""
    async with ctx.sessions() as session, session.begin():
        row, created = await find_or_create_album(
            ctx, session, org_id, actor, data.title, data.slug, data.description
        )
        count = len(await repo.album_tracks(session, row.id))
    return album_summary(row, ctx.settings, count), created


async def list_albums(ctx: CatalogContext, org_id: str, limit: int, offset: int) -> AlbumPage:
    """An organization's albums, drafts included."""
    async with ctx.sessions() as session:
        rows, total = await repo.org_albums(session, org_id, limit, offset)
    items = [album_summary(r, ctx.settings, r.track_count) for r in rows]
    return AlbumPage(items=items, total=total, limit=limit, offset=offset)


async def get_album(ctx: CatalogContext, org_id: str, album_id: str) -> AlbumDetail:
    async with ctx.sessions() as session:
        row = await repo.get_album(session, album_id)
        if row is None or row.organization_id != org_id:
            raise not_found("album", album_id=album_id)
        track_rows = await repo.album_tracks(session, album_id)
    return album_detail(row, track_rows, ctx.settings)


async def public_albums(
    ctx: CatalogContext, limit: int, offset: int, handle: str | None = None
) -> AlbumPage:
    """Albums with at least one public track, of everyone or of one artist."""
    async with ctx.sessions() as session:
        rows, total = await repo.public_albums(session, limit, offset, handle)
    return AlbumPage(
        items=[album_summary(r, ctx.settings, r.track_count) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


async def public_album(ctx: CatalogContext, handle: str, slug: str) -> AlbumDetail:
    """Public tracks in album order; an old slug (before a rename) still finds the album,
    and an album without public tracks is not found."""
    async with ctx.sessions() as session:
        row = await repo.by_handle_slug(session, handle, slug)
        track_rows = await repo.album_tracks(session, row.id, public_only=True) if row else []
    if row is None or not track_rows:
        raise not_found("album", handle=handle, slug=slug)
    return album_detail(row, track_rows, ctx.settings)


async def upload_cover(
    ctx: CatalogContext, org_id: str, album_id: str, actor: Actor, read_form: FormReader
) -> AlbumSummary:
    """The cover and its sizes in storage first, then the row; the old ones are scheduled
    for removal in the same transaction."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session:
        await owned_album(session, album_id, org_id, owner_id)  # 404 before reading a body
    _, files = await read_form()
    upload = files.get("image") or files.get("file")
    if upload is None:
        raise validation_error("multipart field 'image' is required", {"image": "required"})
    spool, info = await read_image(upload, ctx.settings.max_image_bytes, "image")
    version = secrets.token_hex(8)
    key = f"albums/{album_id}/cover-{version}.{info.extension}"
    sizes = await store_sizes(
        ctx.storage, spool.file, f"albums/{album_id}/artwork/{version}/", "image"
    )
    try:
        await ctx.storage.put(key, spool.file, spool.size, info.content_type)
        async with ctx.sessions() as session, session.begin():
            current = await owned_album(session, album_id, org_id, owner_id, lock=True)
            row = await repo.update_album(
                session,
                album_id,
                {"cover_key": key, "cover_content_type": info.content_type, "cover_sizes": sizes},
            )
            await tracks_repo.schedule_removal(
                session, current.cover_key, *artwork.keys(current.cover_sizes)
            )
            await emit(ctx, session, album_changed(row, "updated"))
            count = len(await repo.album_tracks(session, album_id))
    except BaseException:
        await ctx.storage.remove(key)
        await remove_all(ctx.storage, sizes)
        raise
    ctx.sweeper.wake()
    return album_summary(row, ctx.settings, count)


async def finalize(
    ctx: CatalogContext, org_id: str, album_id: str, actor: Actor, track_ids: list[str]
) -> AlbumDetail:
    """Append new tracks in the given order; the first success releases the album.

    The album row is locked for the whole transaction, so concurrent finalizes run one
    after another and exactly one of them sees `released_at` unset."""
    owner_id = actor.require_user()
    require_distinct(track_ids)
    async with ctx.sessions() as session, session.begin():
        album = await owned_album(session, album_id, org_id, owner_id, lock=True)
        found = await tracks_repo.get_tracks(session, track_ids)
        require_album_tracks(track_ids, found, album_id, owner_id)
        last = await repo.max_position(session, album_id)
        changed = [
            await tracks_repo.update_track(session, tid, {"album_position": position})
            for tid, position in new_positions(track_ids, found, last)
        ]
        released_at = await repo.mark_released(session, album_id)
        ordered = await repo.album_tracks(session, album_id)
        order = [t.id for t in ordered]
        if changed:
            await emit(
                ctx,
                session,
                *(TrackChanged(action="updated", track=track_snapshot(t)) for t in changed),
            )
            await emit(ctx, session, album_changed(album, "updated", order))
        if released_at is not None:
            await emit(
                ctx,
                session,
                AlbumReleased(
                    album_id=album.id,
                    organization_id=album.organization_id,
                    owner_id=album.owner_id,
                    owner_handle=album.owner_handle,
                    slug=album.slug,
                    released_at=released_at,
                    track_ids=order,
                ),
            )
        row = await repo.get_album(session, album_id)
    return album_detail(row, ordered, ctx.settings)


async def update(
    ctx: CatalogContext, org_id: str, album_id: str, actor: Actor, data: UpdateAlbum
) -> AlbumSummary:
    """A new title moves the slug; the old slug is remembered so old URLs still work."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        album = await owned_album(session, album_id, org_id, owner_id, lock=True)
        values: dict[str, Any] = {}
        previous: list[str] = []
        if data.title is not None and data.title.strip() != album.title:
            values["title"] = data.title.strip()
            new_slug = slugify(data.title)
            if new_slug != album.slug:
                clash = await repo.by_owner_slug(session, owner_id, new_slug)
                if clash is not None:
                    raise ApiError(
                        ErrorCode.CONFLICT,
                        "another album of yours has this title's slug",
                        details={"slug": new_slug},
                    )
                await repo.remember_slug(session, album.owner_handle, album.slug, album.id)
                values["slug"] = new_slug
                previous = [album.slug]
        if "description" in data.model_fields_set:
            values["description"] = (data.description or "").strip() or None
        row = await repo.update_album(session, album_id, values) if values else album
        if values:
            await emit(ctx, session, album_changed(row, "updated", previous=previous))
        count = len(await repo.album_tracks(session, album_id))
    return album_summary(row, ctx.settings, count)


async def remove_track(
    ctx: CatalogContext, org_id: str, album_id: str, track_id: str, actor: Actor
) -> RemovedAlbumTrack:
    """Orphans the track: it stays as a standalone track."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        album = await owned_album(session, album_id, org_id, owner_id, lock=True)
        track = await tracks_repo.get_track(session, track_id)
        if track is None or track.album_id != album_id:
            raise not_found("track on this album", track_id=track_id)
        updated = await tracks_repo.update_track(
            session, track_id, {"album_id": None, "album_position": None}
        )
        await emit(ctx, session, TrackChanged(action="updated", track=track_snapshot(updated)))
        remaining = [t.id for t in await repo.album_tracks(session, album_id)]
        await emit(ctx, session, album_changed(album, "updated", remaining))
    return RemovedAlbumTrack(album_id=album_id, track_id=track_id, removed=True)


async def delete(
    ctx: CatalogContext, org_id: str, album_id: str, actor: Actor, *, cascade: bool
) -> DeletedAlbum:
    """Tracks are orphaned, or with `cascade` deleted (objects scheduled for removal)."""
    owner_id = actor.require_user()
    async with ctx.sessions() as session, session.begin():
        album = await owned_album(session, album_id, org_id, owner_id, lock=True)
        track_rows = await repo.album_tracks(session, album_id)
        for track in track_rows:
            if cascade:
                await tracks_repo.delete_track(session, track)
                await emit(ctx, session, track_deleted(track))
            else:
                updated = await tracks_repo.update_track(
                    session, track.id, {"album_id": None, "album_position": None}
                )
                await emit(
                    ctx, session, TrackChanged(action="updated", track=track_snapshot(updated))
                )
        await tracks_repo.schedule_removal(
            session, album.cover_key, *artwork.keys(album.cover_sizes)
        )
        await repo.delete_album(session, album_id)
        await emit(ctx, session, album_changed(album, "deleted"))
    ctx.sweeper.wake()
    return DeletedAlbum(
        album_id=album_id, deleted=True, cascade=cascade, tracks=[t.id for t in track_rows]
    )
