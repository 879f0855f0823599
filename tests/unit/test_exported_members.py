"""The public names of ``ghlsync`` are pinned: adding or removing one is a decision."""

from __future__ import annotations

import ghlsync
import ghlsync.client
import ghlsync.errors
import ghlsync.extract.failures


def test_public_names_are_pinned() -> None:
    assert ghlsync.__all__ == [
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


def test_every_public_name_resolves_to_the_real_object() -> None:
    for name in ghlsync.__all__:
        value = getattr(ghlsync, name)
        if name.endswith("Client"):
            assert value is getattr(ghlsync.client, name)
        elif name in {"DestinationError", "ExtractFailed"}:
            assert value is getattr(ghlsync.extract.failures, name)
        elif name != "__version__":
            assert value is getattr(ghlsync.errors, name)
            assert issubclass(value, ghlsync.errors.GHLSyncError)


def test_every_error_class_is_exported() -> None:
    errors = {
        name
        for name, value in vars(ghlsync.errors).items()
        if isinstance(value, type) and issubclass(value, ghlsync.errors.GHLSyncError)
    }
    assert errors <= set(ghlsync.__all__)


def test_no_name_shadows_pydantic_httpx_or_builtins() -> None:
    import builtins

    import httpx
    import pydantic

    others = (builtins, httpx, pydantic)
    shadowed = {n for n in ghlsync.__all__ if any(hasattr(module, n) for module in others)}
    # TransportError is STYLE.md's name for the branch (httpx's base of the same idea)
    assert shadowed - {"__version__"} == {"TransportError"}


def test_error_tree_diagram_names_every_error() -> None:
    doc = ghlsync.errors.__doc__ or ""
    for name in ghlsync.__all__:
        if name.endswith("Error") or name == "ExtractFailed":
            assert f" {name} " in doc, name
