"""Deterministic seed data: company, locations, tokens, then each family's seeder (``SEEDERS``).

Everything derives from ``SeedOptions.seed``: the same options give the same ids, names,
tokens and records. Each (location, family) pair gets its own ``random.Random`` so adding a
family does not change what the others produce.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Callable, Iterable
from typing import Any

from ghlsync.emulator.seeding import (
    associations,
    businesses,
    calendars,
    campaigns,
    contacts,
    conversations,
    custom_fields,
    custom_values,
    forms,
    invoices,
    locations,
    object_records,
    objects,
    opportunities,
    payments,
    products,
    surveys,
    users,
    workflows,
)
from ghlsync.emulator.seeding.options import SeedOptions, SeedResult, module_rng
from ghlsync.emulator.seeding.words import BUSINESS_WORDS, CITIES, FIRST_NAMES, LAST_NAMES
from ghlsync.emulator.state import ALL_SCOPES, LocationState, OAuthApp, Store, iso_from_ms

Seeder = Callable[[Store, LocationState, random.Random, SeedOptions], None]

#: Every family's seeder, in seeding order: a family may use what those before it seeded
#: (contacts use custom fields and tags; opportunities use contacts and users). The name keys
#: the family's random numbers (``module_rng``): renaming it changes what is seeded.
SEEDERS: tuple[tuple[str, Seeder], ...] = (
    ("locations", locations.seed),
    ("custom_fields", custom_fields.seed),
    ("contacts", contacts.seed),
    ("users", users.seed),
    ("opportunities", opportunities.seed),
    ("calendars", calendars.seed),
    ("conversations", conversations.seed),
    ("campaigns", campaigns.seed),
    ("workflows", workflows.seed),
    ("businesses", businesses.seed),
    ("forms", forms.seed),
    ("surveys", surveys.seed),
    ("invoices", invoices.seed),
    ("products", products.seed),
    ("payments", payments.seed),
    ("objects", objects.seed),
    ("object_records", object_records.seed),
    ("associations", associations.seed),
    ("custom_values", custom_values.seed),
)


def seed_store(store: Store, options: SeedOptions) -> SeedResult:
    """Fill an empty ``store``: company, agency token, OAuth app, locations and their data."""
    rng = random.Random(f"base:{options.seed}")
    company_id = store.new_id()
    store.company = {
        "id": company_id,
        "name": "Emulated Agency",
        "email": "owner@emulated-agency.example.com",
    }
    app_id = store.new_id(24)
    # the seeded agency token belongs to the seeded OAuth app, so tokens it obtains through
    # /oauth/locationToken share that app's rate-limit buckets
    agency = store.issue_token(
        kind="company", company_id=company_id, location_id=None, app_id=app_id, prefix="agency-"
    )
    store.agency_token = agency.value
    client_id = f"{app_id}-{store.new_id(10).lower()}"
    oauth_app = OAuthApp(
        client_id=client_id,
        client_secret=store.new_id(36),
        app_id=app_id,
        redirect_uris=["http://127.0.0.1/callback", "http://localhost/callback"],
    )
    store.oauth_apps[client_id] = oauth_app
    store.installed[app_id] = set()
    store.extras["seed_options"] = options
    results = _seed_locations(store, options, rng, app_id)
    result = SeedResult(
        company_id=company_id,
        agency_token=agency.value,
        client_id=client_id,
        client_secret=oauth_app.client_secret,
        app_id=app_id,
        locations=results,
    )
    store.extras["seed_result"] = result
    return result


def _seed_locations(
    store: Store, options: SeedOptions, rng: random.Random, app_id: str
) -> list[dict[str, str]]:
    """Add ``options.locations`` locations (the app installed) and run every family's
    ``seed`` on them; their ids, names and tokens."""
    first = len(store.locations)
    new: list[LocationState] = []
    results: list[dict[str, str]] = []
    for index in range(first, first + options.locations):
        business = BUSINESS_WORDS[index % len(BUSINESS_WORDS)]
        city, state, country, timezone = CITIES[rng.randrange(len(CITIES))]
        name = business if index < len(BUSINESS_WORDS) else f"{business} {city}"
        location = add_location(
            store,
            name=name,
            city=city,
            state=state,
            country=country,
            timezone=timezone,
            rng=rng,
            date_added=iso_from_ms(options.created_ms(store, rng)),
        )
        store.installed.setdefault(app_id, set()).add(location.id)
        location.record["_seedIndex"] = index - first
        new.append(location)
        results.append(
            {"id": location.id, "name": name, "token": store.private_tokens[location.id]}
        )
    _run_seeders(store, new, options, SEEDERS)
    for location in new:
        location.record.pop("_seedIndex", None)
    return results


def _run_seeders(
    store: Store,
    locations: list[LocationState],
    options: SeedOptions,
    seeders: Iterable[tuple[str, Seeder]],
) -> None:
    # the cyclic GC would rescan the growing heap again and again while millions of records
    # are built (nothing seeded is garbage): off during seeding
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for name, seed_fn in seeders:
            for location in locations:
                rng = module_rng(options.seed, location.id, name)
                if options.number_from:
                    rng = module_rng(options.seed, location.id, f"{name}+{options.number_from}")
                seed_fn(store, location, rng, options)
    finally:
        if gc_was_enabled:
            gc.enable()


def add_seed(
    store: Store,
    options: SeedOptions,
    *,
    location_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Add seeded data to the current state (``POST /_emulator/seed``), keeping what is there.

    ``options.locations`` new locations are seeded by every family (``contacts``,
    ``opportunities`` and ``counts`` split across them). With no new locations,
    ``options.contacts`` contacts (and their notes and tasks) are added to each location of
    ``location_ids`` (default: all), numbered after the ones already there so no email or
    phone is duplicated. Timestamps use the same window as the first seed.
    """
    result: SeedResult | None = store.extras.get("seed_result")
    base: SeedOptions = store.extras.get("seed_options") or SeedOptions(seed=store.seed)
    added: dict[str, Any] = {"locations": [], "contacts": {}}
    rng = random.Random(f"add:{options.seed}:{len(store.locations)}:{options.number_from}")
    if options.locations > 0:
        app_id = result.app_id if result is not None else ""
        made = _seed_locations(store, options, rng, app_id)
        added["locations"] = made
        if result is not None:
            result.locations.extend(made)
        return added
    targets = location_ids or list(store.locations)
    for location_id in targets:
        location = store.locations[location_id]
        existing = len(store.contacts(location_id)) + len(store.contacts(location_id).deleted)
        options_here = SeedOptions(
            locations=1,
            contacts=options.contacts,
            seed=options.seed,
            history_days=base.history_days,
            anchor_ms=options.anchor_ms or base.anchor_ms,
            number_from=max(existing, 1),
        )
        location.record["_seedIndex"] = 0
        try:
            _run_seeders(store, [location], options_here, [("contacts", contacts.seed)])
        finally:
            location.record.pop("_seedIndex", None)
        added["contacts"][location_id] = options.contacts
    return added


def add_location(
    store: Store,
    *,
    name: str,
    city: str = "Austin",
    state: str = "TX",
    country: str = "US",
    timezone: str = "America/Chicago",
    rng: random.Random | None = None,
    date_added: str | None = None,
) -> LocationState:
    """Create a location with a Private Integration token carrying every scope (``date_added``
    defaults to now)."""
    rng = rng or random.Random(name)
    location_id = store.new_id()
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:20] or "location"
    record: dict[str, Any] = {
        "id": location_id,
        "companyId": store.company.get("id", ""),
        "name": name,
        "domain": f"{slug}.msgsndr.com",
        "address": f"{rng.randint(1, 9999)} Main Street",
        "city": city,
        "state": state,
        "country": country,
        "postalCode": f"{rng.randint(10000, 99999)}",
        "website": f"https://www.{slug}.example.com",
        "timezone": timezone,
        "firstName": FIRST_NAMES[rng.randrange(len(FIRST_NAMES))],
        "lastName": LAST_NAMES[rng.randrange(len(LAST_NAMES))],
        "email": f"hello@{slug}.example.com",
        "phone": "+1512555" + f"{rng.randint(0, 9999):04d}",
        "business": {
            "name": name,
            "address": f"{rng.randint(1, 9999)} Main Street",
            "city": city,
            "state": state,
            "country": country,
            "postalCode": f"{rng.randint(10000, 99999)}",
            "website": f"https://www.{slug}.example.com",
            "timezone": timezone,
            "logoUrl": "",
        },
        "social": {},
        "settings": {
            "allowDuplicateContact": False,
            "allowDuplicateOpportunity": False,
            "allowFacebookNameMerge": False,
            "disableContactTimezone": False,
        },
        "dateAdded": date_added or store.now(),
    }
    location = store.add_location(record)
    token = store.issue_token(
        kind="location",
        company_id=record["companyId"],
        location_id=location_id,
        scopes=ALL_SCOPES,
        app_id=f"private-integration:{location_id}",
        prefix="pit-",
    )
    store.private_tokens[location_id] = token.value
    return location


def build(
    options: SeedOptions | None = None,
) -> tuple[Store, SeedResult]:
    """A seeded store (the usual way to get one)."""
    options = options or SeedOptions()
    store = Store(seed=options.seed)
    result = seed_store(store, options)
    store.extras["seed_result"] = result
    settle_memory(options)
    return store, result


#: from this many seeded contacts on, seeded objects are frozen out of the cyclic GC
FREEZE_FROM = 50_000


def settle_memory(options: SeedOptions) -> None:
    """Move a big seed out of the cyclic GC's reach: with a million contact dicts a full
    collection would otherwise pause a request for over a second. (Frozen objects are never
    collected, so small seeds, as tests build by the dozen, are left alone.)"""
    if options.contacts >= FREEZE_FROM:
        gc.collect()
        gc.freeze()
