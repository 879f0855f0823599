"""Seeded conversations: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.routes.conversations import SEND_TYPES, add_message, new_conversation
from ghlsync.emulator.seeding.helpers import seed_clock, seeded_contacts
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store, iso_from_ms

SNIPPETS = (
    "Hi! Is the appointment still on for tomorrow?",
    "Thanks, see you then.",
    "Can you send me the price list?",
    "Your invoice is attached.",
    "We have a slot on Friday at 3pm.",
    "Please call me back when you can.",
    "Great, booked!",
    "STOP",
)


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Conversations for a share of contacts (``--count conversations=N``, default a third of
    them up to 300), each with a few messages (``messages_per_conversation``, default 4)."""
    contacts = seeded_contacts(location)
    if not contacts:
        return
    count = min(options.count("conversations", min(len(contacts) // 3 or 1, 300)), len(contacts))
    per = options.count("messages_per_conversation", 4)
    now_ms, span_ms = seed_clock(store, options)
    picked = rng.sample(contacts, count)
    for contact in picked:
        kind = "SMS" if contact.get("phone") and rng.random() < 0.7 else "Email"
        message_type, type_number, conversation_type = SEND_TYPES[kind]
        started = now_ms - int(rng.random() * span_ms)
        conversation = new_conversation(store, location.id, contact, conversation_type, started)
        location.collection("conversations").put(conversation)
        at = started
        for index in range(max(per, 1)):
            at += 60_000 + int(rng.random() * max(now_ms - at, 1) / (per + 1))
            at = min(at, now_ms - (per - index))
            add_message(
                store,
                location.id,
                conversation,
                text=SNIPPETS[int(rng.random() * len(SNIPPETS))],
                message_type=message_type,
                type_number=type_number,
                direction="inbound" if index % 2 == 0 else "outbound",
                now=iso_from_ms(at),
                source="app",
            )
