"""The ``Version`` header HighLevel expects, per endpoint family (a pure function).

HighLevel versions its API per family through a ``Version`` request header. The dated values
come from the ``Version`` parameter's enum in each ``apps/*.json`` spec: ``2021-07-28`` for almost
every family, ``2021-04-15`` for calendars, conversations and a few newer families. The token
endpoint (``POST /oauth/token``) takes no header at all. With API v3 every call carries
``Version: v3`` (as HighLevel's own SDK 3.x does), the token endpoint again excepted.
"""

from __future__ import annotations

DEFAULT_VERSION = "2021-07-28"
OLD_VERSION = "2021-04-15"
V3 = "v3"

#: First path segment -> version, where it is not ``DEFAULT_VERSION``.
FAMILY_VERSIONS: dict[str, str] = {
    "calendars": OLD_VERSION,
    "conversations": OLD_VERSION,
    "agent-studio": OLD_VERSION,
    "conversation-ai": OLD_VERSION,
    "knowledge-bases": OLD_VERSION,
    "saas": OLD_VERSION,
    "saas-api": OLD_VERSION,
    "voice-ai": OLD_VERSION,
}

#: Exact paths whose version differs from their family's.
PATH_VERSIONS: dict[str, str] = {
    "/links/search": OLD_VERSION,
}

_NO_VERSION = frozenset({("POST", "/oauth/token")})


def _normalise(path: str) -> str:
    path = path.split("?", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    return path.rstrip("/") or "/"


def version_for(method: str, path: str, api_version: str = "v2") -> str | None:
    """The ``Version`` header for ``method path``, or ``None`` when none must be sent.

    ``api_version`` is ``"v2"`` (dated versions per family) or ``"v3"``.
    """
    path = _normalise(path)
    if (method.upper(), path) in _NO_VERSION:
        return None
    if api_version == V3:
        return V3
    if api_version != "v2":
        raise ValueError(f"unknown api_version {api_version!r}: use 'v2' or 'v3'")
    if path in PATH_VERSIONS:
        return PATH_VERSIONS[path]
    family = path.split("/", 2)[1] if path != "/" else ""
    return FAMILY_VERSIONS.get(family, DEFAULT_VERSION)
