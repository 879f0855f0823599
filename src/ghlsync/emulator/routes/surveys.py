"""Surveys and their submissions (``apps/surveys.json``): the forms module's code, another
collection (``surveys`` / ``survey_submissions``) and scope (``surveys.readonly``)."""

from __future__ import annotations

import random

from starlette.routing import BaseRoute, Route

from ghlsync.emulator.routes.forms import list_handler, seed_submissions, submissions_handler
from ghlsync.emulator.seed import SeedOptions
from ghlsync.emulator.state import LocationState, Store

NAMES = ("Customer Satisfaction", "Intake Questionnaire", "Event Feedback")


def seed(store: Store, location: LocationState, rng: random.Random, options: SeedOptions) -> None:
    """Surveys (``--count surveys=N``) and submissions (``survey_submissions=N``, default 40)."""
    seed_submissions(store, location, rng, options, kind="survey", names=NAMES, default_count=40)


routes: list[BaseRoute] = [
    Route(
        "/surveys/submissions",
        submissions_handler("survey", "surveys.readonly", "survey_submissions"),
        methods=["GET"],
    ),
    Route("/surveys/", list_handler("survey", "surveys.readonly", "surveys"), methods=["GET"]),
]
