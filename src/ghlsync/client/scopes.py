"""The OAuth scope each endpoint the client calls requires, from the spec's ``security``.

A 401 "not authorized for this scope" then names the scope to add
(``AuthError.scope`` and its hint). The table covers the endpoints of the resources; the
contract test checks it against ``../shared/ghl-api/apps/*.json`` both ways (each entry equals
the spec, each endpoint the client calls whose spec names a scope has an entry).
"""

from __future__ import annotations

import re
from functools import cache

#: (method, path template) -> the scope HighLevel's spec lists for it
REQUIRED_SCOPES: dict[tuple[str, str], str] = {
    ("GET", "/associations/"): "associations.readonly",
    ("GET", "/associations/{associationId}"): "associations.readonly",
    ("POST", "/associations/relations"): "associations/relation.write",
    ("GET", "/associations/relations/{recordId}"): "associations/relation.readonly",
    ("DELETE", "/associations/relations/{relationId}"): "associations/relation.write",
    ("GET", "/businesses/"): "businesses.readonly",
    ("GET", "/businesses/{businessId}"): "businesses.readonly",
    ("GET", "/calendars/"): "calendars.readonly",
    ("GET", "/calendars/events"): "calendars/events.readonly",
    ("GET", "/campaigns/"): "campaigns.readonly",
    ("GET", "/contacts/"): "contacts.readonly",
    ("POST", "/contacts/"): "contacts.write",
    ("POST", "/contacts/search"): "contacts.readonly",
    ("GET", "/contacts/search/duplicate"): "contacts.readonly",
    ("POST", "/contacts/upsert"): "contacts.write",
    ("DELETE", "/contacts/{contactId}"): "contacts.write",
    ("GET", "/contacts/{contactId}"): "contacts.readonly",
    ("PUT", "/contacts/{contactId}"): "contacts.write",
    ("GET", "/contacts/{contactId}/appointments"): "contacts.readonly",
    ("GET", "/contacts/{contactId}/notes"): "contacts.readonly",
    ("POST", "/contacts/{contactId}/notes"): "contacts.write",
    ("DELETE", "/contacts/{contactId}/notes/{id}"): "contacts.write",
    ("GET", "/contacts/{contactId}/notes/{id}"): "contacts.readonly",
    ("PUT", "/contacts/{contactId}/notes/{id}"): "contacts.write",
    ("DELETE", "/contacts/{contactId}/tags"): "contacts.write",
    ("POST", "/contacts/{contactId}/tags"): "contacts.write",
    ("GET", "/contacts/{contactId}/tasks"): "contacts.readonly",
    ("POST", "/contacts/{contactId}/tasks"): "contacts.write",
    ("DELETE", "/contacts/{contactId}/tasks/{taskId}"): "contacts.write",
    ("GET", "/contacts/{contactId}/tasks/{taskId}"): "contacts.readonly",
    ("PUT", "/contacts/{contactId}/tasks/{taskId}"): "contacts.write",
    ("PUT", "/contacts/{contactId}/tasks/{taskId}/completed"): "contacts.write",
    ("POST", "/conversations/messages"): "conversations/message.write",
    ("GET", "/conversations/search"): "conversations.readonly",
    ("GET", "/conversations/{conversationId}/messages"): "conversations/message.readonly",
    ("GET", "/forms/"): "forms.readonly",
    ("GET", "/forms/submissions"): "forms.readonly",
    ("GET", "/invoices/"): "invoices.readonly",
    ("GET", "/locations/search"): "locations.readonly",
    ("GET", "/locations/{locationId}"): "locations.readonly",
    ("GET", "/locations/{locationId}/customValues"): "locations/customValues.readonly",
    ("POST", "/locations/{locationId}/customValues"): "locations/customValues.write",
    ("GET", "/locations/{locationId}/customFields"): "locations/customFields.readonly",
    ("POST", "/locations/{locationId}/customFields"): "locations/customFields.write",
    ("GET", "/locations/{locationId}/tags"): "locations/tags.readonly",
    ("POST", "/locations/{locationId}/tags"): "locations/tags.write",
    ("GET", "/oauth/installedLocations"): "oauth.readonly",
    ("GET", "/objects/"): "objects/schema.readonly",
    ("GET", "/objects/{key}"): "objects/schema.readonly",
    ("POST", "/objects/{schemaKey}/records"): "objects/record.write",
    ("POST", "/objects/{schemaKey}/records/search"): "objects/record.readonly",
    ("POST", "/opportunities/"): "opportunities.write",
    ("GET", "/opportunities/pipelines"): "opportunities.readonly",
    ("GET", "/opportunities/search"): "opportunities.readonly",
    ("POST", "/opportunities/upsert"): "opportunities.write",
    ("DELETE", "/opportunities/{id}"): "opportunities.write",
    ("GET", "/opportunities/{id}"): "opportunities.readonly",
    ("PUT", "/opportunities/{id}"): "opportunities.write",
    ("PUT", "/opportunities/{id}/status"): "opportunities.write",
    ("GET", "/payments/orders"): "payments/orders.readonly",
    ("GET", "/payments/transactions"): "payments/transactions.readonly",
    ("GET", "/products/"): "products.readonly",
    ("GET", "/products/{productId}"): "products.readonly",
    ("GET", "/surveys/"): "surveys.readonly",
    ("GET", "/surveys/submissions"): "surveys.readonly",
    ("GET", "/users/"): "users.readonly",
    ("GET", "/users/search"): "users.readonly",
    ("GET", "/users/{userId}"): "users.readonly",
    ("GET", "/workflows/"): "workflows.readonly",
}


@cache
def _patterns() -> list[tuple[re.Pattern[str], int, str, str]]:
    compiled = []
    for (method, template), scope in REQUIRED_SCOPES.items():
        regex = "".join(
            "[^/]+" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        literal = sum(1 for s in template.split("/") if s and not s.startswith("{"))
        compiled.append((re.compile(regex), literal, method, scope))
    return compiled


def required_scope(method: str, path: str) -> str | None:
    """The scope ``method path`` needs (the most specific template wins), or ``None``."""
    method = method.upper()
    best: tuple[int, str] | None = None
    for pattern, literal, for_method, scope in _patterns():
        matches = for_method == method and pattern.fullmatch(path)
        if matches and (best is None or literal > best[0]):
            best = (literal, scope)
    return best[1] if best else None
