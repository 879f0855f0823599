"""Pure mapping code: contact mapping specs, normalising emails and phones, custom-field coercion.

Bottom layer: imports nothing of ghlsync but ``errors``, and does no I/O. Used by extract
(custom fields readable by key), push (rows -> contacts) and events (Segment traits -> contacts).

    spec = parse_mapping(yaml_dict)            # or load_mapping("contacts.yaml")
    mapping = compile_mapping(spec, field_defs(raw_definitions).values(), columns)
    result = mapping.map(record)               # MappedContact(fields, tags) | Rejected(problems)
"""

from __future__ import annotations

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
