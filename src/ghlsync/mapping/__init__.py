"""Pure mapping code: contact mapping specs, normalising emails and phones, custom-field coercion.

Bottom layer: imports nothing of ghlsync but ``errors``, and does no I/O. Used by extract
(custom fields readable by key), push (rows -> contacts) and events (Segment traits -> contacts).

    spec = parse_mapping(yaml_dict)            # or load_mapping("contacts.yaml")
    mapping = compile_mapping(spec, field_defs(raw_definitions).values(), columns)
    result = mapping.map(record)               # MappedContact(fields, tags) | Rejected(problems)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ghlsync.mapping.contact import (
        ContactMapping,
        MappedContact,
        Problem,
        Rejected,
        compile_mapping,
        fold,
    )
    from ghlsync.mapping.custom_fields import (
        FieldDef,
        coerce_value,
        custom_value,
        field_defs,
        readable_custom_fields,
    )
    from ghlsync.mapping.normalize import normalize_country, normalize_email, normalize_phone
    from ghlsync.mapping.spec import (
        DND_TARGETS,
        STANDARD_FIELDS,
        ContactMappingSpec,
        load_mapping,
        parse_mapping,
    )

#: where each name lives: imported on first use, so that ``extract`` (custom fields only)
#: does not import the contact mapping and phonenumbers (~0.1 s at start-up)
_LAZY = {
    "ContactMapping": "contact",
    "ContactMappingSpec": "spec",
    "DND_TARGETS": "spec",
    "FieldDef": "custom_fields",
    "MappedContact": "contact",
    "Problem": "contact",
    "Rejected": "contact",
    "STANDARD_FIELDS": "spec",
    "coerce_value": "custom_fields",
    "compile_mapping": "contact",
    "custom_value": "custom_fields",
    "field_defs": "custom_fields",
    "fold": "contact",
    "load_mapping": "spec",
    "normalize_country": "normalize",
    "normalize_email": "normalize",
    "normalize_phone": "normalize",
    "parse_mapping": "spec",
    "readable_custom_fields": "custom_fields",
}

__all__ = [
    "DND_TARGETS",
    "STANDARD_FIELDS",
    "ContactMapping",
    "ContactMappingSpec",
    "FieldDef",
    "MappedContact",
    "Problem",
    "Rejected",
    "coerce_value",
    "compile_mapping",
    "custom_value",
    "field_defs",
    "fold",
    "load_mapping",
    "normalize_country",
    "normalize_email",
    "normalize_phone",
    "parse_mapping",
    "readable_custom_fields",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ghlsync.mapping' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ghlsync.mapping.{module}"), name)
    globals()[name] = value
    return value
