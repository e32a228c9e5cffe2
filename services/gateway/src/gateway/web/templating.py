"""Jinja2 for the pages (autoescaped), and the error handlers that answer a page path
with a page: a path that matches no route (a token with an encoded slash, say) or a
failure before the handler ran gets the friendly page, never the JSON envelope."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.exceptions import NotFoundException
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap

from contracts.errors import default_status
from gateway.web.assets import asset_url
from servicekit.errors import ApiError

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"
PAGE_PREFIXES = ("/t/", "/p/", "/s/", "/tracks/", "/embed/", "/app/")


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset"] = asset_url
    return env


ENVIRONMENT = environment()


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(ENVIRONMENT))


def is_page_path(path: str) -> bool:
    return path.startswith(PAGE_PREFIXES)


def render_problem(status: int, heading: str, text: str, embed: bool) -> Response[bytes]:
    from gateway.web.pages import page_headers
    from gateway.web.views import Page

    html = ENVIRONMENT.get_template("problem.html").render(
        page=Page(title=heading, canonical="", embed=embed), heading=heading, text=text
    )
    return Response(
        html.encode(), status_code=status, media_type="text/html", headers=page_headers(embed=embed)
    )


def page_exception_handlers(handlers: ExceptionHandlersMap) -> ExceptionHandlersMap:
    """The API's handlers, with page paths answered as pages."""
    wrapped: dict[Any, Any] = dict(handlers)
    for exc_type, handler in handlers.items():
        wrapped[exc_type] = _on_pages(handler)
    wrapped[NotFoundException] = _on_pages(handlers.get(NotFoundException))
    return wrapped


def _on_pages(handler: Any) -> Any:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        path = request.scope.get("path", "")
        if not is_page_path(path):
            return handler(request, exc)  # type: ignore[no-any-return]
        embed = path.startswith("/embed/")
        status = default_status(exc.code) if isinstance(exc, ApiError) else None
        status = status or getattr(exc, "status_code", 500)
        if status == 429:
            return render_problem(
                429, "Too many tries", "Please wait a minute and try again.", embed
            )
        if status == 413:
            return render_problem(413, "That's too long", "The code you sent is too long.", embed)
        if status in (400, 401, 403, 404, 405, 422):
            return render_problem(
                404,
                "This link isn't available",
                "It may have expired or been turned off by the artist. Ask them for a new one.",
                embed,
            )
        # the route, not the path: a path holds the link's secret token or slug
        route = "/".join(path.split("/")[:2]) or "/"
        log.warning("page %s/… failed: %r", route, exc)
        return render_problem(
            503,
            "We can't open this right now",
            "Part of the service is down. The link itself is fine: try again in a moment.",
            embed,
        )

    return handle
