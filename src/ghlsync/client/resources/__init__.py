"""Typed resources (contacts, opportunities, ...) built on ``Requester.request``.

``ResourceSet`` is mixed into the client: ``AsyncGHLClient.__init__`` calls
``self._init_resources()``, which attaches ``self.contacts``, ``self.opportunities`` and the rest,
each holding the client as its ``Requester``.
"""

from __future__ import annotations


class ResourceSet:
    """Mixin that attaches every resource to a client implementing ``Requester``."""

    def _init_resources(self) -> None:
        """Attach the resources; filled in as resources are added."""
