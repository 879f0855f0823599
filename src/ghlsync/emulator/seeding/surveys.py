"""Seeded surveys: ``seed(store, location, rng, options)``, run for each location."""

from __future__ import annotations

import random

from ghlsync.emulator.seeding.forms import seed_submissions
from ghlsync.emulator.seeding.options import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("Customer Satisfaction", "Intake Questionnaire", "Event Feedback")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Surveys (``--count surveys=N``) and submissions (``survey_submissions=N``, default 40)."""
    seed_submissions(store, location, rng, options, kind="survey", names=NAMES, default_count=40)
