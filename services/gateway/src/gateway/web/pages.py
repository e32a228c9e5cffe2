"""The pages a link opens: `/t/{token}`, `/p/{slug}`, `/s/{token}`, `/tracks/{id}`, their
embeds and oEmbed. Every lookup goes through gateway/service/public_access.py, the rules of the
JSON surfaces: the same rate budgets, the same view counting, the same answers.

A link-preview fetcher, a bot, a HEAD request or a prefetch gets the page (and so the card)
but is never counted as a view: it is recorded as a preview (public_access.preview_of). Failures become one of a few friendly pages, never a trace."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlsplit

from litestar import Controller, Request, Response, get, post, route
from litestar.datastructures import Cookie
from litestar.enums import HttpMethod, RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from pydantic import BaseModel

from contracts.api.sharing import Acknowledged, PackPresentation, SplitSheetLinkView
from contracts.dto import SignedUrl, TrackLinkView
from contracts.errors import ErrorCode, default_status
from gateway.auth import provide_optional_caller
from gateway.context import GatewayContext
from gateway.service.public_access import (
    open_track_link,
    preview_of,
    public_playback_url,
    to_sharing,
)
from gateway.service.public_catalog import public_track
from gateway.web.templating import ENVIRONMENT
from gateway.web.views import Page, card
from servicekit.errors import ApiError
from servicekit.upstream import segment

Req = Request[Any, Any, Any]
NAME = re.compile(r"^[A-Za-z0-9_\-]{1,200}$")  # tokens, slugs, track ids and ref codes
MAX_CODE_BODY_BYTES = 1024
GONE = {ErrorCode.RESOURCE_NOT_FOUND, ErrorCode.TRACK_LINK_UNAVAILABLE}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors {ancestors}"
)
PAGE_METHODS = [HttpMethod.GET, HttpMethod.HEAD]
# /a/…?count=0: the player's signed URL fetched before a click or renewed during a play;
# the click's own request (without it) is the one that counts the play
COUNT_PARAM = "count"


def page_headers(*, embed: bool = False, noindex: bool = True) -> dict[str, str]:
    headers = {
        "referrer-policy": "no-referrer",
        "cache-control": "private, no-store",
        "content-security-policy": CSP.format(ancestors="*" if embed else "'none'"),
        "x-content-type-options": "nosniff",
    }
    if not embed:
        headers["x-frame-options"] = "DENY"
    if noindex:
        headers["x-robots-tag"] = "noindex"
    return headers


def origin(request: Req, ctx: GatewayContext) -> str:
    """Where people open the pages: the configured public URL, which behind a TLS-ending
    ingress is https while the request itself is http (and not the Host a client sends)."""
    base = ctx.settings.public_base_url
    if base:
        return base.rstrip("/")
    return str(request.base_url).rstrip("/")


def render(
    template: str,
    page: Page,
    status: int = 200,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    return Template(
        template_name=template,
        context={"page": page, **context},
        status_code=status,
        headers=page_headers(embed=page.embed, noindex=page.noindex),
        cookies=cookies or [],
        media_type="text/html",
    )


def problem(status: int, heading: str, text: str, embed: bool = False) -> Template:
    page = Page(title=heading, canonical="", embed=embed)
    return render("problem.html", page, status, heading=heading, text=text)


def not_found(embed: bool = False) -> Template:
    """Unknown, revoked and expired look the same, as they do on the JSON surface."""
    return problem(
        404,
        "This link isn't available",
        "It may have expired or been turned off by the artist. Ask them for a new one.",
        embed,
    )


def failure(exc: ApiError, embed: bool = False) -> Template:
    """A refused or failed lookup as a page: 404, 429 or 503 (never the envelope)."""
    status = default_status(exc.code)
    if exc.code in GONE or status in (400, 404, 422):
        return not_found(embed)
    if exc.code is ErrorCode.RATE_LIMITED:
        return problem(429, "Too many tries", "Please wait a minute and try again.", embed)
    if status >= 500:
        return problem(
            503,
            "We can't open this right now",
            "Part of the service is down. The link itself is fine: try again in a moment.",
            embed,
        )
    return not_found(embed)


def clean(value: str) -> str | None:
    """A token, slug or id as a page path holds it, or None for any other shape."""
    value = value.strip("/")
    return value if NAME.fullmatch(value) else None


def code_cookie(slug: str) -> str:
    return "ac_" + slug[:60]


async def open_track_page(
    request: Req, raw: str, ctx: GatewayContext, embed: bool
) -> Template | Response[bytes]:
    token = clean(raw)
    if token is None:
        return not_found(embed)
    caller = await provide_optional_caller(request, ctx)
    try:
        body = await open_track_link(request, token, caller, ctx)
    except ApiError as exc:
        return failure(exc, embed)
    html, headers = track_page(request, token, body, ctx, embed)
    return Response(html, media_type="text/html", headers=headers)


def track_page(
    request: Req, token: str, body: bytes, ctx: GatewayContext, embed: bool
) -> tuple[bytes, dict[str, str]]:
    """The HTML and headers of a track link's page, from the link's payload bytes: what
    the route answers and what the layer in front (cached_opens.py) answers alike."""
    html, noindex = track_html(token, body, embed, origin(request, ctx))
    return html, page_headers(embed=embed, noindex=noindex)


@lru_cache(maxsize=2048)
def track_html(token: str, body: bytes, embed: bool, base_url: str) -> tuple[bytes, bool]:
    """The page of a track link's payload: the same payload bytes (the link cache's) give
    the same page, so the busiest page is rendered once per link version, not per open."""
    view = TrackLinkView.model_validate_json(body)
    track = card(view.track, f"/a/t/{token}", media_route=f"/a/t/{token}", base_url=base_url)
    canonical = f"{base_url}/t/{token}"
    noindex = view.link.visibility == "link_only"
    page = Page(
        title=f"{track.title} · {track.artist}" if track.artist else track.title,
        canonical=canonical,
        description=track.description or f"Listen to {track.title}",
        image=track.artwork_url,
        noindex=noindex,
        oembed=f"{base_url}/oembed?url={quote(canonical, safe='')}&format=json",
        embed=embed,
        beacon={"token": token},
    )
    template = ENVIRONMENT.get_template("embed.html" if embed else "track.html")
    return template.render(page=page, tracks=[track]).encode(), noindex


async def open_pack_page(
    request: Req, raw: str, ctx: GatewayContext, embed: bool, code: str | None = None
) -> Template | Redirect:
    """The pack page; with a posted `code`, the form's answer: the form again (403) for a
    wrong code, else a 303 to the page itself with the code's cookie (Post/Redirect/Get:
    a reload then repeats the GET, not the POST). The GET that follows counts the view."""
    slug = clean(raw)
    if slug is None:
        return not_found(embed)
    posted = code is not None
    code = code if posted else request.cookies.get(code_cookie(slug))
    caller = await provide_optional_caller(request, ctx)
    extra = {"accessCode": code} if code else None
    base = origin(request, ctx)
    page = Page(
        title="Private pack",
        canonical=f"{base}/p/{slug}",
        embed=embed,
        oembed=f"{base}/oembed?url={quote(f'{base}/p/{slug}', safe='')}&format=json",
        beacon={"slug": slug},
    )
    try:
        presentation = await to_sharing(
            request,
            f"/internal/pack-links/{segment(slug)}",
            caller,
            ctx,
            PackPresentation,
            slug,
            extra=extra,
            method="GET",
            preview=preview_of(request),
            count_view=not posted,  # the 303 after a right code leads to the GET that counts
            lookup=f"pack-link/{slug}",  # the same lookup as its tracks' audio and waveforms
        )
    except ApiError as exc:
        if exc.code is ErrorCode.ACCESS_CODE_REQUIRED:
            return render("gate.html", page, 403, slug=slug, wrong=False)
        if exc.code is ErrorCode.ACCESS_CODE_INVALID:
            return render("gate.html", page, 403, slug=slug, wrong=posted)
        return failure(exc, embed)
    downloads = not presentation.link.disable_downloads
    tracks = [
        card(
            t,
            audio_url=f"/a/p/{slug}/{t.id}",
            download_url=f"/d/p/{slug}/{t.id}" if downloads else None,
            media_route=f"/a/p/{slug}/{t.id}",
            base_url=base,
        )
        for t in presentation.pack.tracks
    ]
    title = presentation.link.name or presentation.pack.title
    page = Page(
        title=title,
        canonical=page.canonical,
        description=presentation.pack.description or f"{len(tracks)} tracks",
        image=tracks[0].artwork_url if tracks else None,
        oembed=page.oembed,
        embed=embed,
        beacon=page.beacon,
    )
    cookies = []
    if posted and code:
        cookies.append(
            Cookie(
                key=code_cookie(slug),
                value=quote(code, safe=""),
                path="/",
                httponly=True,
                samesite="lax",  # sent when the link is reopened from a chat or an e-mail
                secure=origin(request, ctx).startswith("https:"),
                max_age=12 * 3600,
            )
        )
    if posted:
        return Redirect(f"/p/{slug}", status_code=303, cookies=cookies, headers=page_headers())
    template = "embed.html" if embed else "pack.html"
    return render(template, page, tracks=tracks, pack=presentation.pack)


class CodeForm(BaseModel):
    code: str = ""


class PagesController(Controller):
    include_in_schema = False

    @route("/t/{token:path}", http_method=PAGE_METHODS)
    async def track_link(
        self, request: Req, token: str, ctx: GatewayContext
    ) -> Template | Response[bytes]:
        return await open_track_page(request, token, ctx, embed=False)

    @route("/embed/t/{token:path}", http_method=PAGE_METHODS)
    async def track_embed(
        self, request: Req, token: str, ctx: GatewayContext
    ) -> Template | Response[bytes]:
        return await open_track_page(request, token, ctx, embed=True)

    @route("/p/{slug:path}", http_method=PAGE_METHODS)
    async def pack_link(self, request: Req, slug: str, ctx: GatewayContext) -> Template | Redirect:
        return await open_pack_page(request, slug, ctx, embed=False)

    @post("/p/{slug:path}", request_max_body_size=MAX_CODE_BODY_BYTES, status_code=303)
    async def pack_code(
        self,
        request: Req,
        slug: str,
        ctx: GatewayContext,
        data: Annotated[CodeForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """The access-code form posts here; the code lives on in an HttpOnly cookie."""
        return await open_pack_page(request, slug, ctx, embed=False, code=data.code[:1000])

    @route("/embed/p/{slug:path}", http_method=PAGE_METHODS)
    async def pack_embed(self, request: Req, slug: str, ctx: GatewayContext) -> Template | Redirect:
        return await open_pack_page(request, slug, ctx, embed=True)

    @route("/s/{token:path}", http_method=PAGE_METHODS)
    async def split_sheet(self, request: Req, token: str, ctx: GatewayContext) -> Template:
        clean_token = clean(token)
        if clean_token is None:
            return not_found()
        try:
            view = await to_sharing(
                request,
                f"/internal/split-sheets/{segment(clean_token)}",
                None,
                ctx,
                SplitSheetLinkView,
                method="GET",
                engages=False,
            )
        except ApiError as exc:
            return failure(exc)
        title = view.splitSheet.track_title or view.link.name or "Split sheet"
        page = Page(
            title=f"Split sheet · {title}", canonical=f"{origin(request, ctx)}/s/{clean_token}"
        )
        return render("split.html", page, sheet=view.splitSheet, heading=title)

    @route("/tracks/{track_id:path}", http_method=PAGE_METHODS)
    async def public_track_page(self, request: Req, track_id: str, ctx: GatewayContext) -> Template:
        """A public track; `?ref=CODE` is recorded as the ref code's click (as the JSON
        `/v1/tracks/{id}/shares/{code}/click`), or its preview for a fetcher."""
        clean_id = clean(track_id)
        if clean_id is None:
            return not_found()
        caller = await provide_optional_caller(request, ctx)
        try:
            track = await public_track(clean_id, ctx, caller)
        except ApiError as exc:
            return failure(exc)
        ref = clean(request.query_params.get("ref", "") or "")
        if ref:
            try:
                await to_sharing(
                    request,
                    f"/internal/tracks/{segment(clean_id)}/shares/{segment(ref)}/click",
                    caller,
                    ctx,
                    Acknowledged,
                    method="POST",
                    preview=preview_of(request),
                )
            except ApiError as exc:
                if default_status(exc.code) >= 500 or exc.code is ErrorCode.RATE_LIMITED:
                    return failure(exc)
        view = card(track, audio_url=f"/a/tracks/{clean_id}")
        page = Page(
            title=f"{view.title} · {view.artist}" if view.artist else view.title,
            canonical=f"{origin(request, ctx)}/tracks/{clean_id}",
            description=view.description or f"Listen to {view.title}",
            image=view.artwork_url,
            noindex=False,
            beacon={"ref": ref} if ref else {},
        )
        return render("public_track.html", page, tracks=[view])


async def playback(
    request: Req, path: str, ctx: GatewayContext, link: str | None, lookup: str
) -> Response[Any]:
    """The signed URL behind a page's audio (or waveform, download): JSON for our script
    (it picks a source), else a redirect. Sharing counts what its route counts (a play for
    playback-url, nothing for peaks-url; `?count=0`, the player's URL fetched before the
    click or renewed during a play, counts nothing). `lookup` is the link (`track-link/…`,
    `pack-link/…`): every track and waveform of one page is one lookup of that link."""
    caller = await provide_optional_caller(request, ctx)
    extra = None
    if link is not None:
        code = request.cookies.get(code_cookie(link))
        extra = {"accessCode": code} if code else None
    signed = await to_sharing(
        request,
        path,
        caller,
        ctx,
        SignedUrl,
        link,
        extra=extra,
        method="GET",
        lookup=lookup,
        engages=not path.endswith("/peaks-url"),  # a waveform drawn is not engagement
        count_view=request.query_params.get(COUNT_PARAM) != "0",
    )
    return signed_answer(request, signed)


def signed_answer(request: Req, signed: SignedUrl) -> Response[Any]:
    """JSON for our script (it picks a source), else a redirect for a plain element."""
    headers = {"cache-control": "private, no-store", "referrer-policy": "no-referrer"}
    if "application/json" in request.headers.get("accept", ""):
        return Response(signed, headers=headers)
    return Redirect(signed.url, status_code=302, headers=headers)


async def public_playback(request: Req, track_id: str, ctx: GatewayContext) -> Response[Any]:
    """A public track's signed streaming URL, for its page's player (nothing counted)."""
    client = ctx.proxies.client_address(request.scope)
    return signed_answer(request, await public_playback_url(ctx, client, track_id))


class PlaybackController(Controller):
    """Where a page's audio and download buttons point (never counted unless used)."""

    include_in_schema = False

    @get("/a/t/{token:str}")
    async def track_audio(self, request: Req, token: str, ctx: GatewayContext) -> Response[Any]:
        return await playback(
            request,
            f"/internal/track-links/{segment(token)}/playback-url",
            ctx,
            None,
            f"track-link/{token}",
        )

    @get("/a/p/{slug:str}/{track_id:str}")
    async def pack_audio(
        self, request: Req, slug: str, track_id: str, ctx: GatewayContext
    ) -> Response[Any]:
        path = f"/internal/pack-links/{segment(slug)}/tracks/{segment(track_id)}/playback-url"
        return await playback(request, path, ctx, slug, f"pack-link/{slug}")

    @get("/a/tracks/{track_id:str}")
    async def public_track_audio(
        self, request: Req, track_id: str, ctx: GatewayContext
    ) -> Response[Any]:
        """The public track page's audio (`/tracks/{id}`): public tracks only."""
        return await public_playback(request, track_id, ctx)

    @get("/a/t/{token:str}/peaks")
    async def track_peaks(self, request: Req, token: str, ctx: GatewayContext) -> Response[Any]:
        """The waveform the player draws at page load: a link-bound peaks URL, not a play."""
        return await playback(
            request,
            f"/internal/track-links/{segment(token)}/peaks-url",
            ctx,
            None,
            f"track-link/{token}",
        )

    @get("/a/p/{slug:str}/{track_id:str}/peaks")
    async def pack_peaks(
        self, request: Req, slug: str, track_id: str, ctx: GatewayContext
    ) -> Response[Any]:
        path = f"/internal/pack-links/{segment(slug)}/tracks/{segment(track_id)}/peaks-url"
        return await playback(request, path, ctx, slug, f"pack-link/{slug}")

    @get("/a/t/{token:str}/artwork/{size:int}")
    async def track_artwork(
        self, request: Req, token: str, size: int, ctx: GatewayContext
    ) -> Response[Any]:
        """One artwork size of the link's track (the page's image, a card's og:image): a
        link-bound media URL, so revoking the link stops it. Not a play."""
        return await playback(
            request,
            f"/internal/track-links/{segment(token)}/artwork-url/{size}",
            ctx,
            None,
            f"track-link/{token}",
        )

    @get("/a/p/{slug:str}/{track_id:str}/artwork/{size:int}")
    async def pack_artwork(
        self, request: Req, slug: str, track_id: str, size: int, ctx: GatewayContext
    ) -> Response[Any]:
        path = f"/internal/pack-links/{segment(slug)}/tracks/{segment(track_id)}/artwork-url/{size}"
        return await playback(request, path, ctx, slug, f"pack-link/{slug}")

    @get("/d/p/{slug:str}/{track_id:str}")
    async def pack_download(
        self, request: Req, slug: str, track_id: str, ctx: GatewayContext
    ) -> Response[Any]:
        path = f"/internal/pack-links/{segment(slug)}/tracks/{segment(track_id)}/download-url"
        return await playback(request, path, ctx, slug, f"pack-link/{slug}")


class OEmbed(BaseModel):
    version: str = "1.0"
    type: str = "rich"
    provider_name: str = "Encore"
    title: str
    html: str
    width: int
    height: int


OEMBED_URL = r"^https?://[^/?#\s]+/(t|p)/[A-Za-z0-9_\-]{1,200}$"


@get("/oembed", include_in_schema=True, tags=["public"])
async def oembed(
    request: Req,
    ctx: GatewayContext,
    url: Annotated[
        str,
        Parameter(
            pattern=OEMBED_URL,
            max_length=1000,
            description="a track (`/t/{token}`) or pack (`/p/{slug}`) link page",
        ),
    ],
    format: Literal["json"] = "json",
) -> OEmbed:
    """oEmbed (https://oembed.com) for track and pack link pages: an iframe of the embed.
    Counts no view (the embed counts its own when it is opened)."""
    parts = urlsplit(url[:1000])
    match = re.fullmatch(r"/(t|p)/([A-Za-z0-9_\-]{1,200})", parts.path)
    if match is None:
        raise ApiError(
            ErrorCode.VALIDATION_ERROR,
            "invalid url",
            details={"fields": {"url": "not a track or pack link page of ours"}},
        )
    kind, name = match.groups()
    base = origin(request, ctx)
    if parts.netloc.lower() != urlsplit(base).netloc.lower():
        # a well-formed URL of another site: oEmbed's answer is 404, "nothing for this url"
        raise ApiError(ErrorCode.RESOURCE_NOT_FOUND, "not a link page of this site")
    height = 180 if kind == "t" else 420
    src = f"{base}/embed/{kind}/{name}"
    html = (
        f'<iframe src="{src}" width="100%" height="{height}" frameborder="0" '
        f'allow="autoplay" title="Encore player" loading="lazy"></iframe>'
    )
    return OEmbed(title="Encore player", html=html, width=600, height=height)
