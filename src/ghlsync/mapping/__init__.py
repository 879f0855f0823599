"""Pure mapping code: normalising emails and phones, coercing custom-field values.

Bottom layer: imports nothing of ghlsync but ``errors``. Used by extract (custom fields readable
by key) and by push and events (normalising what users send before it reaches HighLevel).
"""

from __future__ import annotations

from ghlsync.mapping.custom_fields import FieldDef, coerce_value, field_defs, readable_custom_fields
from ghlsync.mapping.normalize import normalize_country, normalize_email, normalize_phone

__all__ = [
    "FieldDef",
    "coerce_value",
    "field_defs",
    "normalize_country",
    "normalize_email",
    "normalize_phone",
    "readable_custom_fields",
]
