"""Contact search rows in the GET shape: HighLevel's two contact shapes, normalised in one place.

``POST /contacts/search`` rows differ from ``GET /contacts/{id}`` (GHL-NOTES §4, hl-docs#314):
the address comes back as ``address`` rather than ``address1`` and ``dateOfBirth`` as epoch
milliseconds rather than an ISO string. Readers of search rows pass them through
``contact_from_search_row`` so a table or a comparison sees one shape, whichever endpoint the
record came from. Pure: no I/O.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping
from typing import Any


def _iso_ms(epoch_ms: float) -> str:
    moment = dt.datetime.fromtimestamp(epoch_ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def contact_from_search_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` with ``address`` as ``address1`` and an epoch-ms ``dateOfBirth`` as ISO-8601.

    A row already in the GET shape (``address1`` present, ``dateOfBirth`` a string) comes back
    unchanged; other fields are kept as they are, so nothing the API sent is dropped.
    """
    out = dict(row)
    if "address" in out and "address1" not in out:
        out["address1"] = out.pop("address")
    birth = out.get("dateOfBirth")
    if isinstance(birth, int | float) and not isinstance(birth, bool):
        with contextlib.suppress(OverflowError, OSError, ValueError):  # out of range: as sent
            out["dateOfBirth"] = _iso_ms(birth)
    return out
