"""Typed resources (contacts, opportunities, ...) built on ``Requester.request``.

``ResourceSet`` is mixed into the client: ``AsyncGHLClient.__init__`` calls
``self._init_resources()``, which attaches ``self.contacts``, ``self.opportunities`` and the rest,
each holding the client as its ``Requester``. See ``docs/client-resources.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ghlsync.client.resources.contacts import ContactsResource
from ghlsync.client.resources.locations import (
    CustomFieldsResource,
    LocationsResource,
    LocationTagsResource,
)
from ghlsync.client.resources.opportunities import OpportunitiesResource, PipelinesResource

if TYPE_CHECKING:
    from ghlsync.client._protocol import Requester

__all__ = [
    "ContactsResource",
    "CustomFieldsResource",
    "LocationTagsResource",
    "LocationsResource",
    "OpportunitiesResource",
    "PipelinesResource",
    "ResourceSet",
]


class ResourceSet:
    """Mixin that attaches every resource to a client implementing ``Requester``."""

    contacts: ContactsResource
    custom_fields: CustomFieldsResource
    locations: LocationsResource
    tags: LocationTagsResource
    opportunities: OpportunitiesResource
    pipelines: PipelinesResource

    def _init_resources(self) -> None:
        """Attach the resources (the client itself is their ``Requester``)."""
        requester = cast("Requester", self)
        self.contacts = ContactsResource(requester)
        self.custom_fields = CustomFieldsResource(requester)
        self.locations = LocationsResource(requester)
        self.tags = LocationTagsResource(requester)
        self.opportunities = OpportunitiesResource(requester)
        self.pipelines = PipelinesResource(requester)
