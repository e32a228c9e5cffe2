"""Who fetches a page for a link preview rather than a person: they get the card (title,
artist, artwork) and are never counted as a view. One list, matched case-insensitively
as substrings of the User-Agent; a HEAD request or a prefetch is treated the same way.
The gateway adds a maintained crawler library on top (gateway/engagement.py): this list
names the fetchers we have seen and tested, and is checked first, so that a preview is
reported as `preview_fetcher` rather than as a generic `bot`."""

from __future__ import annotations

from collections.abc import Mapping

PREVIEW_FETCHERS: tuple[str, ...] = (
    "slackbot",  # Slack (Slackbot-LinkExpanding)
    "twitterbot",  # X / Twitter cards
    "facebookexternalhit",  # Facebook, Messenger, Instagram
    "facebookcatalog",
    "whatsapp",  # WhatsApp/2.x
    "discordbot",
    "telegrambot",
    "linkedinbot",
    "skypeuripreview",
    "applebot",  # iMessage previews are fetched as Applebot / facebookexternalhit+Twitterbot
    "redditbot",
    "embedly",
    "pinterestbot",
    "mastodon",  # Mastodon instances fetching previews
    "googlebot",
    "bingbot",
    # Microsoft's mail scanners and Outlook's link previews (Safe Links, Defender)
    "bingpreview",
    "microsoft office",  # Outlook fetching a link: "Microsoft Office/16.0 (… Microsoft Outlook …)"
    "ms-office",  # "Mozilla/4.0 (compatible; ms-office; MSOffice 16)"
)


def is_preview_fetcher(user_agent: str | None) -> bool:
    """True for the User-Agent of a link-preview fetcher (see PREVIEW_FETCHERS)."""
    if not user_agent:
        return False
    lowered = user_agent[:1000].lower()
    return any(marker in lowered for marker in PREVIEW_FETCHERS)


def is_prefetch(headers: Mapping[str, str]) -> bool:
    """A speculative fetch (`Sec-Purpose: prefetch`, `Purpose: prefetch`): not a visit."""
    for name in ("sec-purpose", "purpose", "x-purpose", "x-moz"):
        if "prefetch" in headers.get(name, "").lower():
            return True
    return False
