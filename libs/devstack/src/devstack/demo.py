"""Seeds (or finds again) the demo artist, organization, track and link of `make run`."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

DEMO_HANDLE = "demo-artist"
DEMO_AUDIO = Path(__file__).parent / "assets" / "demo-tone.mp3"


@dataclass
class Demo:
    api_key: str
    organization_id: str
    track_id: str
    link_token: str
    link_url: str


def _still_valid(client: httpx.Client, demo: Demo) -> bool:
    headers = {"X-API-Key": demo.api_key}
    me = client.get("/v1/me", headers=headers)
    track = client.get(f"/v1/music/{demo.organization_id}/tracks/{demo.track_id}", headers=headers)
    link = client.get(f"/v1/public/track-links/{demo.link_token}", headers=headers)
    return me.status_code == track.status_code == link.status_code == 200


def seed(gateway_url: str, admin_key: str, state_file: Path) -> Demo:
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        if state_file.exists():
            demo = Demo(**json.loads(state_file.read_text()))
            if _still_valid(client, demo):
                return demo
        created = client.post(
            "/v1/users",
            json={"handle": DEMO_HANDLE, "display_name": "Demo Artist"},
            headers={"X-API-Key": admin_key},
        )
        if created.status_code == 409:  # the user exists but its saved key is gone
            raise RuntimeError(
                f"demo user exists but {state_file} is missing; run `make clean` to start afresh"
            )
        created.raise_for_status()
        user = created.json()
        headers = {"X-API-Key": user["api_key"]}
        org = user["organization_id"]
        with DEMO_AUDIO.open("rb") as audio:
            track = client.post(
                f"/v1/music/{org}/tracks",
                headers=headers,
                files={"file": ("demo-tone.mp3", audio, "audio/mpeg")},
                data={"title": "Demo tone"},
            )
        track.raise_for_status()
        link = client.post(f"/v1/music/{org}/tracks/{track.json()['id']}/share", headers=headers)
        link.raise_for_status()
        body = link.json()
        demo = Demo(user["api_key"], org, track.json()["id"], body["token"], body["url"])
        state_file.write_text(json.dumps(asdict(demo), indent=2))
        state_file.chmod(0o600)
        return demo
