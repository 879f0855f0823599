"""What a wire shape's type alone cannot say: dates, epoch milliseconds, undeclared columns.

Each record HighLevel sends is declared once, as a ``TypedDict`` in its resource module
(``contacts.Contact``, ``opportunities.Opportunity``, ...). The client returns it; the extract
derives its table schemas from it (``ghlsync.extract.schemas``: the Singer catalog and the
dlt/Arrow column types). The field's Python type gives its JSON type (``str``; ``int`` and
``float`` are numbers; ``bool``; ``list[str]``; ``list[<TypedDict>]``; ``list[Any]``;
``dict[str, Any]``; a union for a field HighLevel sends as either). ``Required[...]`` marks a
field that is always present and never null. These annotations add:

- ``DateTime``: an ISO-8601 date-time string (``2026-03-01T10:00:00.000Z``);
- ``EpochMs``: a date-time HighLevel sends as epoch milliseconds (conversations, GHL-NOTES
  §4 "Dates"); the extract writes it as an ISO-8601 timestamp like every other date;
- ``Annotated[T, INFERRED]``: a field the extract declares no column for up front; when it
  appears in the data, dlt types its column from the values.

Example::

    class Note(TypedDict, total=False):
        id: str
        body: str
        dateAdded: DateTime
        color: Annotated[str, INFERRED]
"""

from __future__ import annotations

import enum
from typing import Annotated


class Wire(enum.Enum):
    """The markers ``Annotated`` carries on a wire shape's fields."""

    DATE_TIME = "date-time"
    EPOCH_MS = "epoch-ms"
    INFERRED = "inferred"


DateTime = Annotated[str, Wire.DATE_TIME]
EpochMs = Annotated[int, Wire.EPOCH_MS]
INFERRED = Wire.INFERRED

__all__ = ["INFERRED", "DateTime", "EpochMs", "Wire"]
