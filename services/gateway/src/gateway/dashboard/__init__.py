"""The artist's dashboard (`/app/…`): sign-in sessions, pages, charts and live updates."""
