"""The contact mapping spec: a frozen value parsed once from YAML or a dict, no I/O after that.

Example (``--mapping contacts.yaml``)::

    fields: {email: email, phone: phone, firstName: first_name, companyName: company}
    defaults: {country: US, source: warehouse}
    tags: [synced]                  # constant tags
    tags_from: [segment]            # plus the tags in these columns ("a, b" or a list)
    custom_fields: {contact.membership_status: status, contact.call_notes: notes}

Keys on the left are HighLevel's (standard fields in camelCase, custom fields by ``fieldKey`` or
id); values on the right are source columns (``address.city`` reaches into a nested object, as
Segment traits have). Every unknown key is refused and every problem is listed at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from ghlsync.errors import ConfigError

#: HighLevel's writable standard contact fields (GHL-NOTES §4, seeds/000), in wire spelling
STANDARD_FIELDS: tuple[str, ...] = (
    "email",
    "phone",
    "firstName",
    "lastName",
    "name",
    "address1",
    "city",
    "state",
    "postalCode",
    "country",
    "companyName",
    "website",
    "timezone",
    "dateOfBirth",
    "source",
    "assignedTo",
    "dnd",
)
#: ``dndSettings.<channel>`` targets (DndSettingsSchema; RCS seen in real payloads)
DND_CHANNELS: tuple[str, ...] = ("Call", "Email", "SMS", "WhatsApp", "GMB", "FB", "RCS")
DND_TARGETS: tuple[str, ...] = tuple(f"dndSettings.{channel}" for channel in DND_CHANNELS)


class ContactMappingSpec(BaseModel):
    """How source records become HighLevel contacts (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: HighLevel standard field -> source column
    fields: dict[str, str] = Field(default_factory=dict)
    #: HighLevel field (standard, or a custom field's key/id) -> value when the column is empty
    defaults: dict[str, str | int | float | bool | list[str]] = Field(default_factory=dict)
    #: tags every contact gets
    tags: tuple[str, ...] = ()
    #: columns holding more tags (a list, or text split on ``tag_separator``)
    tags_from: tuple[str, ...] = ()
    tag_separator: str = ","
    #: custom field ``fieldKey`` (``contact.x`` or ``x``) or id -> source column
    custom_fields: dict[str, str] = Field(default_factory=dict)
    #: match unmapped columns to standard fields and to custom fields by key
    auto_match: bool = True
    #: columns never matched automatically
    ignore: tuple[str, ...] = ()
    #: the region of phone numbers written without ``+`` (None: refuse them)
    default_region: str | None = "US"

    @field_validator("tags")
    @classmethod
    def _tags_not_blank(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(tag.strip() for tag in tags)
        if any(not tag for tag in cleaned):
            raise ValueError("a tag is empty")
        return cleaned

    @field_validator("tag_separator")
    @classmethod
    def _separator(cls, value: str) -> str:
        if not value:
            raise ValueError("tag_separator is empty")
        return value

    def problems(self) -> list[str]:
        """What is wrong without knowing the location (unknown standard fields, clashes)."""
        found: list[str] = []
        for target in self.fields:
            if target not in STANDARD_FIELDS and target not in DND_TARGETS:
                found.append(_unknown_standard(f"fields.{target}", target))
        for target, column in self.fields.items():
            if not column.strip():
                found.append(f"fields.{target}: the source column is empty")
        for key, column in self.custom_fields.items():
            if not column.strip():
                found.append(f"custom_fields.{key}: the source column is empty")
        for target in self.defaults:
            if target in self.fields or target in STANDARD_FIELDS or target in DND_TARGETS:
                continue
            if "." in target or target in self.custom_fields:
                continue  # a custom field key or id, checked against the location
            found.append(_unknown_standard(f"defaults.{target}", target))
        for target in self.fields:
            if target in ("tags", "customFields"):
                found.append(f"fields.{target}: use the top-level `tags` / `custom_fields` keys")
        return found


def _unknown_standard(where: str, target: str) -> str:
    folded = target.replace("_", "").lower()
    close = [name for name in (*STANDARD_FIELDS, *DND_TARGETS) if name.lower() == folded]
    hint = f" (did you mean {close[0]}?)" if close else ""
    custom = " (custom fields go under custom_fields)" if not close else ""
    return f"{where}: {target!r} is not a HighLevel contact field{hint}{custom}"


def parse_mapping(
    data: Mapping[str, Any] | None, *, source: str = "mapping", check: bool = True
) -> ContactMappingSpec:
    """A ``ContactMappingSpec`` from a dict, or ``ConfigError`` listing every problem at once.

    ``check=False`` leaves the checks that need no location (unknown standard fields) to
    ``compile_mapping``, which repeats them, so that they are listed together with the
    location's (unknown custom fields, missing columns).

    Example::

        spec = parse_mapping({"fields": {"email": "Email"}, "tags": ["synced"]})
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source}: the mapping must be a mapping of keys (fields, defaults, tags, ...)",
            hint="see docs/push.md for the mapping file's shape",
        )
    try:
        spec = ContactMappingSpec.model_validate(dict(data))
    except PydanticValidationError as exc:
        lines = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "(top)"
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
            lines.append(f"{where}: {message}")
        # the checks that need no valid whole, so every problem is listed at once
        fields, defaults = data.get("fields"), data.get("defaults")
        partial = ContactMappingSpec.model_construct(
            fields={str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else {},
            defaults=dict(defaults) if isinstance(defaults, dict) else {},
        )
        lines += [line for line in partial.problems() if line not in lines]
        raise mapping_error(source, lines) from None
    problems = spec.problems() if check else []
    if problems:
        raise mapping_error(source, problems)
    return spec


def load_mapping(
    path: str | Path, *, source: str | None = None, check: bool = True
) -> ContactMappingSpec:
    """Read a YAML (or JSON) mapping file into a ``ContactMappingSpec``."""
    import yaml

    name = source or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"mapping file {path} does not exist", hint="check the path") from None
    except OSError as exc:
        raise ConfigError(f"cannot read mapping file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "somewhere"
        raise ConfigError(
            f"mapping file {path} is not valid YAML ({where})", hint="fix the YAML syntax"
        ) from None
    return parse_mapping(data, source=name, check=check)


def mapping_error(source: str, problems: list[str]) -> ConfigError:
    """One ``ConfigError`` naming every problem (``; `` between them)."""
    count = len(problems)
    noun = "problem" if count == 1 else "problems"
    return ConfigError(
        f"{source}: {count} {noun}: " + "; ".join(problems),
        hint="fix the mapping; nothing was sent",
    )
