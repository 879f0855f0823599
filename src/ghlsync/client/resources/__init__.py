"""Typed resources (contacts, opportunities, ...) built on ``Requester.request``.

``ResourceSet`` is mixed into the client: ``AsyncGHLClient.__init__`` calls
``self._init_resources()``, which attaches ``self.contacts``, ``self.opportunities`` and the rest,
each holding the client as its ``Requester``. See ``docs/client-resources.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from ghlsync.client.resources._base import Resource
from ghlsync.client.resources.calendars import CalendarsResource
from ghlsync.client.resources.catalog import BusinessesResource, CampaignsResource, UsersResource
from ghlsync.client.resources.commerce import InvoicesResource, PaymentsResource, ProductsResource
from ghlsync.client.resources.contacts import ContactsResource
from ghlsync.client.resources.conversations import ConversationsResource
from ghlsync.client.resources.forms import FormsResource, SurveysResource
from ghlsync.client.resources.locations import (
    CustomFieldsResource,
    LocationsResource,
    LocationTagsResource,
)
from ghlsync.client.resources.objects import (
    AssociationsResource,
    CustomValuesResource,
    ObjectsResource,
    WorkflowsResource,
)
from ghlsync.client.resources.opportunities import OpportunitiesResource, PipelinesResource

if TYPE_CHECKING:
    from ghlsync.client._protocol import Requester

__all__ = [
    "AssociationsResource",
    "BusinessesResource",
    "CalendarsResource",
    "CampaignsResource",
    "ContactsResource",
    "ConversationsResource",
    "CustomFieldsResource",
    "CustomValuesResource",
    "FormsResource",
    "InvoicesResource",
    "LocationTagsResource",
    "LocationsResource",
    "ObjectsResource",
    "OpportunitiesResource",
    "PaymentsResource",
    "PipelinesResource",
    "ProductsResource",
    "ResourceSet",
    "SurveysResource",
    "UsersResource",
    "WorkflowsResource",
]


class ResourceSet:
    """Mixin that attaches every resource to a client implementing ``Requester``."""

    contacts: ContactsResource
    custom_fields: CustomFieldsResource
    locations: LocationsResource
    tags: LocationTagsResource
    opportunities: OpportunitiesResource
    pipelines: PipelinesResource
    campaigns: CampaignsResource
    users: UsersResource
    businesses: BusinessesResource
    calendars: CalendarsResource
    conversations: ConversationsResource
    forms: FormsResource
    surveys: SurveysResource
    invoices: InvoicesResource
    products: ProductsResource
    payments: PaymentsResource
    objects: ObjectsResource
    associations: AssociationsResource
    custom_values: CustomValuesResource
    workflows: WorkflowsResource

    def _init_resources(self) -> None:
        """Attach the resources (the client itself is their ``Requester``)."""
        requester = cast("Requester", self)
        self.contacts = ContactsResource(requester)
        self.custom_fields = CustomFieldsResource(requester)
        self.locations = LocationsResource(requester)
        self.tags = LocationTagsResource(requester)
        self.opportunities = OpportunitiesResource(requester)
        self.pipelines = PipelinesResource(requester)
        self.campaigns = CampaignsResource(requester)
        self.users = UsersResource(requester)
        self.businesses = BusinessesResource(requester)
        self.calendars = CalendarsResource(requester)
        self.conversations = ConversationsResource(requester)
        self.forms = FormsResource(requester)
        self.surveys = SurveysResource(requester)
        self.invoices = InvoicesResource(requester)
        self.products = ProductsResource(requester)
        self.payments = PaymentsResource(requester)
        self.objects = ObjectsResource(requester)
        self.associations = AssociationsResource(requester)
        self.custom_values = CustomValuesResource(requester)
        self.workflows = WorkflowsResource(requester)

    def _resources(self) -> dict[str, Resource]:
        """Every attached resource by attribute name (for introspection and tests)."""
        return {name: value for name, value in vars(self).items() if isinstance(value, Resource)}
