"""Deterministic seed data: company, locations, tokens, then each route module's ``seed``.

Everything derives from ``SeedOptions.seed``: the same options give the same ids, names,
tokens and records. Each (location, module) pair gets its own ``random.Random`` so adding a
module does not change what the others produce.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass, field
from typing import Any

from ghlsync.emulator.state import ALL_SCOPES, LocationState, OAuthApp, Store

BUSINESS_WORDS = (
    "Summit Dental",
    "Harbor Fitness",
    "Maple Realty",
    "Bright Smile Orthodontics",
    "Cedar Roofing",
    "Bluewater Plumbing",
    "Northside Chiropractic",
    "Golden Crust Bakery",
    "Evergreen Landscaping",
    "Ironclad Auto Repair",
    "Lumen Med Spa",
    "Pinecrest Law Group",
    "Riverside Pet Clinic",
    "Atlas Insurance",
    "Sunrise Yoga Studio",
    "Keystone HVAC",
    "Oakwood Dental Care",
    "Coastal Solar",
    "Urban Nest Interiors",
    "Vertex Physical Therapy",
)
CITIES = (
    ("Austin", "TX", "US", "America/Chicago"),
    ("Denver", "CO", "US", "America/Denver"),
    ("Manchester", "England", "GB", "Europe/London"),
    ("Toronto", "ON", "CA", "America/Toronto"),
    ("Melbourne", "VIC", "AU", "Australia/Melbourne"),
    ("Munich", "BY", "DE", "Europe/Berlin"),
    ("Lyon", "ARA", "FR", "Europe/Paris"),
    ("Sao Paulo", "SP", "BR", "America/Sao_Paulo"),
    ("Pune", "MH", "IN", "Asia/Kolkata"),
    ("Miami", "FL", "US", "America/New_York"),
)
FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Liam",
    "Sophie",
    "Lukas",
    "Hannah",
    "Leon",
    "Emma",
    "Louis",
    "Chloe",
    "Hugo",
    "Lea",
    "Gabriel",
    "Camille",
    "Lucas",
    "Julia",
    "Matheus",
    "Beatriz",
    "Arjun",
    "Priya",
    "Rohan",
    "Ananya",
    "Ethan",
    "Olivia",
    "Aiden",
    "Zoe",
    "Mateo",
    "Valentina",
    "Kenji",
    "Yuki",
    "Omar",
    "Fatima",
    "Ivan",
    "Elena",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Walker",
    "Hall",
    "Wright",
    "Evans",
    "Roberts",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Dubois",
    "Moreau",
    "Laurent",
    "Lefebvre",
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Patel",
    "Sharma",
    "Singh",
    "Gupta",
    "Nguyen",
    "Kim",
    "Chen",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Campbell",
    "Stewart",
)
EMAIL_DOMAINS = (
    "gmail.com",
    "yahoo.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "proton.me",
    "example.com",
    "example.org",
    "mail.de",
    "orange.fr",
    "uol.com.br",
    "rediffmail.com",
)


@dataclass
class SeedOptions:
    """What to generate. ``contacts`` is the total across locations."""

    locations: int = 2
    contacts: int = 200
    opportunities: int = 0
    seed: int = 0
    #: per-kind sizes for other modules (``count("products", 20)``)
    counts: dict[str, int] = field(default_factory=dict)
    #: timestamps are spread over this many days before ``now``
    history_days: int = 730
    #: "now" for seeded timestamps (epoch ms); None = the wall clock at seeding. Fix it to
    #: make seeded records byte-for-byte identical across runs (it must lie in the past).
    anchor_ms: int | None = None

    def count(self, kind: str, default: int) -> int:
        if kind == "contacts":
            return self.contacts
        if kind == "opportunities":
            return self.opportunities
        return self.counts.get(kind, default)

    def per_location(self, total: int, index: int) -> int:
        """``total`` split across locations, the remainder to the first ones."""
        base, extra = divmod(total, max(self.locations, 1))
        return base + (1 if index < extra else 0)


@dataclass
class SeedResult:
    company_id: str
    agency_token: str
    client_id: str
    client_secret: str
    app_id: str
    locations: list[dict[str, str]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "companyId": self.company_id,
            "agencyToken": self.agency_token,
            "oauth": {
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                "appId": self.app_id,
            },
            "locations": self.locations,
        }


def module_rng(seed: int, location_id: str, module: str) -> random.Random:
    return random.Random(f"{seed}:{location_id}:{module}")


def seed_store(store: Store, options: SeedOptions) -> SeedResult:
    """Fill an empty ``store``: company, agency token, OAuth app, locations and their data."""
    from ghlsync.emulator.app import route_modules

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
    modules = route_modules()
    results: list[dict[str, str]] = []
    for index in range(options.locations):
        business = BUSINESS_WORDS[index % len(BUSINESS_WORDS)]
        city, state, country, timezone = CITIES[rng.randrange(len(CITIES))]
        name = business if index < len(BUSINESS_WORDS) else f"{business} {city}"
        location = add_location(
            store, name=name, city=city, state=state, country=country, timezone=timezone, rng=rng
        )
        store.installed[app_id].add(location.id)
        results.append(
            {
                "id": location.id,
                "name": name,
                "token": store.private_tokens[location.id],
            }
        )
    for index, location in enumerate(store.locations.values()):
        location.record["_seedIndex"] = index
    # the cyclic GC would rescan the growing heap again and again while millions of records
    # are built (nothing seeded is garbage): off during seeding
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for module in modules:
            seed_fn = getattr(module, "seed", None)
            if seed_fn is None:
                continue
            short = module.__name__.rsplit(".", 1)[-1]
            for location in store.locations.values():
                seed_fn(store, location, module_rng(options.seed, location.id, short), options)
    finally:
        if gc_was_enabled:
            gc.enable()
    for location in store.locations.values():
        location.record.pop("_seedIndex", None)
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


def location_index(location: LocationState) -> int:
    """The location's position in seeding (0, 1, ...), for splitting totals across locations."""
    return int(location.record.get("_seedIndex", 0))


def add_location(
    store: Store,
    *,
    name: str,
    city: str = "Austin",
    state: str = "TX",
    country: str = "US",
    timezone: str = "America/Chicago",
    rng: random.Random | None = None,
) -> LocationState:
    """Create a location with a Private Integration token carrying every scope."""
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
        "dateAdded": store.now(),
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
