"""Albums (plyr.fm semantics, done right): idempotent shells, append-only finalize,
exactly one `album.released`, covers, renames that keep old slugs working."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from catalog import artwork
from catalog.context import CatalogContext
from catalog.db import albums as repo
from catalog.db import tracks as tracks_repo
from catalog.domain.slugs import is_valid_slug, slugify
from catalog.events.publish import emit
from catalog.uploads import form_of, read_image
from catalog.views import album_detail, album_summary
from contracts import ids
from contracts.api.catalog import (
    CreateAlbum,
    DeletedAlbum,
    FinalizeAlbum,
    RemovedAlbumTrack,
    UpdateAlbum,
)
from contracts.dto import AlbumDetail, AlbumPage, AlbumSummary
from contracts.errors import ErrorCode
from contracts.events import AlbumChanged, AlbumReleased, TrackChanged, TrackDeleted
from servicekit.errors import ApiError, not_found, validation_error
from servicekit.internal import Actor, actor_of


def album_changed(
    row: Any, action: str, track_ids: list[str] | None = None, previous: list[str] | None = None
) -> AlbumChanged:
    return AlbumChanged(
        action=action,
        album_id=row.id,
        organization_id=row.organization_id,
        owner_id=row.owner_id,
        owner_handle=row.owner_handle,
        slug=row.slug,
        previous_slugs=previous or [],
        track_ids=track_ids or [],
    )


async def find_or_create_album(
    ctx: CatalogContext,
    session: Any,
    org_id: str,
    actor: Actor,
    title: str,
    slug: str | None = None,
    description: str | None = None,
) -> tuple[Any, bool]:
    """Shared by album creation and the track PATCH `album` field."""
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
    session: Any, album_id: str, org_id: str, owner_id: str, *, lock: bool = False
) -> Any:
    row = await repo.get_album(session, album_id, lock=lock)
    if row is None or row.organization_id != org_id or row.owner_id != owner_id:
        raise not_found("album", album_id=album_id)
    return row


class AlbumsController(Controller):
    path = "/internal/orgs/{org_id:str}/albums"

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], org_id: str, data: CreateAlbum, ctx: CatalogContext
    ) -> Response[AlbumSummary]:
        """An empty shell; the same (artist, slug) again returns the existing album (200)."""
        async with ctx.sessions() as session, session.begin():
            row, created = await find_or_create_album(
                ctx, session, org_id, actor_of(request), data.title, data.slug, data.description
            )
            count = len(await repo.album_tracks(session, row.id))
        return Response(
            album_summary(row, ctx.settings, count), status_code=201 if created else 200
        )

    @get("/")
    async def list_albums(
        self,
        org_id: str,
        ctx: CatalogContext,
        limit: int = Parameter(default=20, ge=1, le=100),
        offset: int = Parameter(default=0, ge=0),
    ) -> AlbumPage:
        async with ctx.sessions() as session:
            rows, total = await repo.org_albums(session, org_id, limit, offset)
        items = [album_summary(r, ctx.settings, r.track_count) for r in rows]
        return AlbumPage(items=items, total=total, limit=limit, offset=offset)

    @get("/{album_id:str}")
    async def get_album(self, org_id: str, album_id: str, ctx: CatalogContext) -> AlbumDetail:
        async with ctx.sessions() as session:
            row = await repo.get_album(session, album_id)
            if row is None or row.organization_id != org_id:
                raise not_found("album", album_id=album_id)
            track_rows = await repo.album_tracks(session, album_id)
        return album_detail(row, track_rows, ctx.settings)

    @post("/{album_id:str}/cover", status_code=200)
    async def upload_cover(
        self, request: Request[Any, Any, Any], org_id: str, album_id: str, ctx: CatalogContext
    ) -> AlbumSummary:
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session:
            await owned_album(session, album_id, org_id, owner_id)  # 404 before reading a body
        _, files = await form_of(request)
        upload = files.get("image") or files.get("file")
        if upload is None:
            raise validation_error("multipart field 'image' is required", {"image": "required"})
        spool, info = await read_image(upload, ctx.settings.max_image_bytes, "image")
        version = secrets.token_hex(8)
        key = f"albums/{album_id}/cover-{version}.{info.extension}"
        sizes = await artwork.store_sizes(
            ctx.storage, spool.file, f"albums/{album_id}/artwork/{version}/", "image"
        )
        try:
            await ctx.storage.put(key, spool.file, spool.size, info.content_type)
            async with ctx.sessions() as session, session.begin():
                current = await owned_album(session, album_id, org_id, owner_id, lock=True)
                row = await repo.update_album(
                    session,
                    album_id,
                    {
                        "cover_key": key,
                        "cover_content_type": info.content_type,
                        "cover_sizes": sizes,
                    },
                )
                await tracks_repo.schedule_removal(
                    session, current.cover_key, *artwork.keys(current.cover_sizes)
                )
                await emit(ctx, session, album_changed(row, "updated"))
                count = len(await repo.album_tracks(session, album_id))
        except BaseException:
            await ctx.storage.remove(key)
            await artwork.remove_all(ctx.storage, sizes)
            raise
        ctx.sweeper.wake()
        return album_summary(row, ctx.settings, count)

    @post("/{album_id:str}/finalize", status_code=200)
    async def finalize(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        data: FinalizeAlbum,
        ctx: CatalogContext,
    ) -> AlbumDetail:
        """Append new tracks in the given order; the first success releases the album.

        The album row is locked for the whole transaction, so concurrent finalizes run one
        after another and exactly one of them sees `released_at` unset."""
        owner_id = actor_of(request).require_user()
        if len(set(data.track_ids)) != len(data.track_ids):
            raise validation_error("track_ids repeats an id", {"track_ids": "each id once"})
        async with ctx.sessions() as session, session.begin():
            album = await owned_album(session, album_id, org_id, owner_id, lock=True)
            found = await tracks_repo.get_tracks(session, data.track_ids)
            offending = [
                tid
                for tid in data.track_ids
                if tid not in found
                or found[tid].album_id != album_id
                or found[tid].owner_id != owner_id
            ]
            if offending:
                raise ApiError(
                    ErrorCode.VALIDATION_ERROR,
                    "every track must be a track of this album owned by the caller",
                    details={
                        "fields": {"track_ids": "not tracks of this album"},
                        "track_ids": offending,
                    },
                )
            position = await repo.max_position(session, album_id)
            changed = []
            for tid in data.track_ids:
                if found[tid].album_position is None:
                    position += 1
                    changed.append(
                        await tracks_repo.update_track(session, tid, {"album_position": position})
                    )
            released_at = await repo.mark_released(session, album_id)
            ordered = await repo.album_tracks(session, album_id)
            order = [t.id for t in ordered]
            if changed:
                await emit(
                    ctx,
                    session,
                    *(
                        TrackChanged(action="updated", track=tracks_repo.snapshot(t))
                        for t in changed
                    ),
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

    @patch("/{album_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        data: UpdateAlbum,
        ctx: CatalogContext,
    ) -> AlbumSummary:
        owner_id = actor_of(request).require_user()
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

    @delete("/{album_id:str}/tracks/{track_id:str}", status_code=200)
    async def remove_track(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        track_id: str,
        ctx: CatalogContext,
    ) -> RemovedAlbumTrack:
        """Orphans the track: it stays as a standalone track."""
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            album = await owned_album(session, album_id, org_id, owner_id, lock=True)
            track = await tracks_repo.get_track(session, track_id)
            if track is None or track.album_id != album_id:
                raise not_found("track on this album", track_id=track_id)
            updated = await tracks_repo.update_track(
                session, track_id, {"album_id": None, "album_position": None}
            )
            await emit(
                ctx, session, TrackChanged(action="updated", track=tracks_repo.snapshot(updated))
            )
            await emit(
                ctx,
                session,
                album_changed(
                    album, "updated", [t.id for t in await repo.album_tracks(session, album_id)]
                ),
            )
        return RemovedAlbumTrack(album_id=album_id, track_id=track_id, removed=True)

    @delete("/{album_id:str}", status_code=200)
    async def delete_album(
        self,
        request: Request[Any, Any, Any],
        org_id: str,
        album_id: str,
        ctx: CatalogContext,
        cascade: bool = Parameter(default=False),
    ) -> DeletedAlbum:
        """Tracks are orphaned, or with `cascade=true` deleted (objects scheduled for removal)."""
        owner_id = actor_of(request).require_user()
        async with ctx.sessions() as session, session.begin():
            album = await owned_album(session, album_id, org_id, owner_id, lock=True)
            track_rows = await repo.album_tracks(session, album_id)
            for track in track_rows:
                if cascade:
                    await tracks_repo.delete_track(session, track)
                    await emit(
                        ctx,
                        session,
                        TrackDeleted(
                            track_id=track.id,
                            organization_id=track.organization_id,
                            owner_id=track.owner_id,
                            deleted_at=datetime.now(UTC),
                        ),
                    )
                else:
                    updated = await tracks_repo.update_track(
                        session, track.id, {"album_id": None, "album_position": None}
                    )
                    await emit(
                        ctx,
                        session,
                        TrackChanged(action="updated", track=tracks_repo.snapshot(updated)),
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
