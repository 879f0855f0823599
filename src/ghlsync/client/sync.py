"""``GHLClient``: the blocking twin of ``AsyncGHLClient``, not a copy of it.

The async client runs on a private event loop in a daemon thread. Attribute access goes through
a generic proxy: a coroutine function becomes a blocking call, an async iterator a plain
iterator, and any other object of the client's (a resource, a page stream) is proxied the same
way. So ``GHLClient(...).contacts.get("c1", location_id="loc1")`` works for every resource
method without a line of per-method code.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import inspect
import threading
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ghlsync.client.core import AsyncGHLClient
from ghlsync.client.pagination import Page, RecordStream
from ghlsync.config import Settings

if TYPE_CHECKING:
    from ghlsync.client._sync_types import (
        SyncAssociationsResource,
        SyncBusinessesResource,
        SyncCalendarsResource,
        SyncCampaignsResource,
        SyncContactsResource,
        SyncConversationsResource,
        SyncCustomFieldsResource,
        SyncCustomValuesResource,
        SyncFormsResource,
        SyncInvoicesResource,
        SyncLocationsResource,
        SyncLocationTagsResource,
        SyncObjectsResource,
        SyncOpportunitiesResource,
        SyncPaymentsResource,
        SyncPipelinesResource,
        SyncProductsResource,
        SyncSurveysResource,
        SyncUsersResource,
        SyncWorkflowsResource,
    )

T = TypeVar("T")
P = ParamSpec("P")

#: Classes whose objects are passed through as they are (plain data).
_PLAIN = (str, bytes, int, float, bool, type(None), dict, list, tuple, set, frozenset)


class _LoopThread:
    """An event loop running forever in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="ghlsync-client-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        if threading.current_thread() is self._thread:
            coro.close()
            raise RuntimeError("GHLClient called from its own event loop; use AsyncGHLClient")
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result()

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


def _is_async_iterator(value: object) -> bool:
    return hasattr(value, "__anext__") and hasattr(value, "__aiter__")


class _SyncIterator(Iterator[Any]):
    """A blocking iterator over an async iterator; other attributes (``progress``...) pass
    through the proxy."""

    def __init__(self, runner: _LoopThread, target: AsyncIterator[Any]) -> None:
        self._runner = runner
        self._target = target

    def __iter__(self) -> _SyncIterator:
        return self

    def __next__(self) -> Any:
        async def step() -> tuple[bool, Any]:
            try:
                return True, await self._target.__anext__()
            except StopAsyncIteration:
                return False, None

        more, value = self._runner.run(step())
        if not more:
            raise StopIteration
        return _wrap(self._runner, value)

    def __getattr__(self, name: str) -> Any:
        return _wrap(self._runner, getattr(self._target, name))

    def __repr__(self) -> str:
        return f"sync({self._target!r})"


class _SyncRecords(Iterator[Any]):
    """A blocking iterator over a ``RecordStream`` that crosses the thread boundary a page at
    a time (one loop hop per page, not per record); ``page``, ``progress`` and the rest pass
    through the proxy."""

    def __init__(self, runner: _LoopThread, target: RecordStream) -> None:
        self._target = target
        self._pages = _SyncIterator(runner, target.pages)
        self._runner = runner
        self._records: Iterator[Any] = iter(())

    def __iter__(self) -> _SyncRecords:
        return self

    def __next__(self) -> Any:
        for record in self._records:
            return record
        while True:
            page: Page = next(self._pages)  # StopIteration ends the records too
            self._target.page = page
            self._records = iter(page.records)
            for record in self._records:
                return record

    def __getattr__(self, name: str) -> Any:
        return _wrap(self._runner, getattr(self._target, name))

    def __repr__(self) -> str:
        return f"sync({self._target!r})"


class _SyncProxy:
    """Blocking view of an object living on the loop thread."""

    def __init__(self, runner: _LoopThread, target: object) -> None:
        object.__setattr__(self, "_runner", runner)
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        return _wrap(self._runner, getattr(self._target, name))

    def __repr__(self) -> str:
        return f"sync({self._target!r})"


def _wrap(runner: _LoopThread, value: Any) -> Any:
    """Turn what the async side hands out into its blocking equivalent."""
    if isinstance(value, _PLAIN):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return value  # plain data (Page, Progress, BudgetSnapshot...): no coroutine to run
    if inspect.iscoroutine(value):
        return _wrap(runner, runner.run(value))
    if isinstance(value, RecordStream) and value.page is None:  # not started: by pages
        return _SyncRecords(runner, value)
    if _is_async_iterator(value):
        return _SyncIterator(runner, value)
    if inspect.iscoroutinefunction(value) or inspect.ismethod(value) or inspect.isfunction(value):
        return _blocking(runner, value)
    if _belongs_to_client(value):
        return _SyncProxy(runner, value)
    return value


def _belongs_to_client(value: object) -> bool:
    module = type(value).__module__
    return module.startswith("ghlsync.client")


def _blocking(runner: _LoopThread, function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any, **kwargs: Any) -> Any:
        if inspect.iscoroutinefunction(function):
            return _wrap(runner, runner.run(function(*args, **kwargs)))
        return _wrap(runner, function(*args, **kwargs))

    call.__name__ = getattr(function, "__name__", "call")
    call.__doc__ = getattr(function, "__doc__", None)
    return call


def _same_arguments(
    source: Callable[Concatenate[Any, P], None],
) -> Callable[[Callable[..., None]], Callable[Concatenate[Any, P], None]]:
    """Give the decorated ``__init__`` ``source``'s parameters (for type checkers and
    ``inspect.signature``): the arguments are written once, on ``AsyncGHLClient``."""

    def decorate(function: Callable[..., None]) -> Callable[Concatenate[Any, P], None]:
        function.__signature__ = inspect.signature(source)  # type: ignore[attr-defined]
        function.__doc__ = function.__doc__ or source.__doc__
        return function

    return decorate


def _blocking_method(
    source: Callable[Concatenate[Any, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[GHLClient, P], T]:
    """A ``GHLClient`` method running the ``AsyncGHLClient`` method ``source`` on the loop
    thread, with ``source``'s parameters (nothing written twice)."""
    name = source.__name__

    def call(self: GHLClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        method: Callable[..., Coroutine[Any, Any, T]] = getattr(self._client, name)
        return self._runner.run(method(*args, **kwargs))

    call.__name__ = name
    call.__qualname__ = f"GHLClient.{name}"
    call.__doc__ = f"Blocking ``AsyncGHLClient.{name}``.\n\n{source.__doc__ or ''}"
    call.__signature__ = inspect.signature(source)  # type: ignore[attr-defined]
    return call


class GHLClient:
    """Blocking HighLevel client: the same arguments and methods as ``AsyncGHLClient``.

    ``with GHLClient(token) as client: client.contacts.get("c1", location_id="loc1")``.
    The resources are typed for type checkers by ``_sync_types`` (generated from the async
    resources); at run time they are the generic proxy.
    """

    if TYPE_CHECKING:
        contacts: SyncContactsResource
        custom_fields: SyncCustomFieldsResource
        locations: SyncLocationsResource
        tags: SyncLocationTagsResource
        opportunities: SyncOpportunitiesResource
        pipelines: SyncPipelinesResource
        campaigns: SyncCampaignsResource
        users: SyncUsersResource
        businesses: SyncBusinessesResource
        calendars: SyncCalendarsResource
        conversations: SyncConversationsResource
        forms: SyncFormsResource
        surveys: SyncSurveysResource
        invoices: SyncInvoicesResource
        products: SyncProductsResource
        payments: SyncPaymentsResource
        objects: SyncObjectsResource
        associations: SyncAssociationsResource
        custom_values: SyncCustomValuesResource
        workflows: SyncWorkflowsResource
        base_url: str
        api_version: str

    @_same_arguments(AsyncGHLClient.__init__)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The arguments of ``AsyncGHLClient`` (``transport`` is an async one: the client runs
        on this object's loop thread)."""
        self._runner = _LoopThread()

        async def build() -> AsyncGHLClient:
            return AsyncGHLClient(*args, **kwargs)

        try:
            self._client = self._runner.run(build())
        except BaseException:
            self._runner.stop()
            raise
        self._closed = False
        # a client dropped without close() still stops its thread
        self._finalizer = weakref.finalize(self, self._runner.stop)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> GHLClient:
        """Blocking twin of ``AsyncGHLClient.from_settings``."""
        from ghlsync.client.factory import components_from_settings

        settings = settings or Settings.from_env()
        return cls(settings=settings, **components_from_settings(settings, **kwargs))

    @classmethod
    def from_env(cls, **kwargs: Any) -> GHLClient:
        return cls.from_settings(Settings.from_env(), **kwargs)

    @property
    def async_client(self) -> AsyncGHLClient:
        """The ``AsyncGHLClient`` underneath (it lives on this client's loop thread)."""
        return self._client

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine that uses ``async_client`` on this client's loop and wait for it
        (e.g. ``client.run(ghlsync.push.writeback.update_contact(client.async_client, ...))``)."""
        return self._runner.run(coroutine)

    request = _blocking_method(AsyncGHLClient.request)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return _wrap(self._runner, getattr(self._client, name))

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | {n for n in dir(self._client) if n[:1] != "_"})

    def close(self) -> None:
        """Close the async client and stop the loop thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._runner.run(self._client.aclose())
        finally:
            self._finalizer()

    def __enter__(self) -> GHLClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"GHLClient({self._client!r})"
