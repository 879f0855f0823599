"""ghlsync: move data in and out of HighLevel (GoHighLevel / LeadConnector).

The public names: the two clients and the error tree (``ghlsync.errors``).

```python
from ghlsync import GHLClient, NotFoundError

with GHLClient("pit-...") as client:
    try:
        contact = client.contacts.get("c1", location_id="loc1")
    except NotFoundError as error:
        print(error.hint)
```

The clients load on first use (``import ghlsync`` stays cheap for the CLI and the emulator).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ghlsync.errors import (
    APIError,
    AuthError,
    ConfigError,
    DuplicateContactError,
    ForbiddenError,
    GHLSyncError,
    InvalidRequestError,
    InvalidValueError,
    MalformedResponseError,
    NetworkFailureError,
    NotFoundError,
    OutcomeUnknownError,
    PaginationError,
    PaginationLoopError,
    RateLimitError,
    RateLimitStateError,
    RequestTimeoutError,
    ServerError,
    TokenStoreError,
    TransportError,
)

if TYPE_CHECKING:
    from ghlsync.client import AsyncGHLClient, GHLClient
    from ghlsync.extract.failures import DestinationError, ExtractFailed

__version__ = "0.1.0.dev0"

__all__ = [
    "APIError",
    "AsyncGHLClient",
    "AuthError",
    "ConfigError",
    "DestinationError",
    "DuplicateContactError",
    "ExtractFailed",
    "ForbiddenError",
    "GHLClient",
    "GHLSyncError",
    "InvalidRequestError",
    "InvalidValueError",
    "MalformedResponseError",
    "NetworkFailureError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PaginationError",
    "PaginationLoopError",
    "RateLimitError",
    "RateLimitStateError",
    "RequestTimeoutError",
    "ServerError",
    "TokenStoreError",
    "TransportError",
    "__version__",
]

#: loaded on first use: the clients (httpx) and the extract's run-level errors
_LAZY = {
    "AsyncGHLClient": "ghlsync.client",
    "GHLClient": "ghlsync.client",
    "DestinationError": "ghlsync.extract.failures",
    "ExtractFailed": "ghlsync.extract.failures",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'ghlsync' has no attribute {name!r}")
