"""The web pages a person opens from a link: server-rendered from the same rules as the
JSON public surfaces (gateway/service/public_access.py), with one stylesheet and one script."""
