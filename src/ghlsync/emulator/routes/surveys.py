"""Surveys and their submissions (``apps/surveys.json``): the forms module's code, another
collection (``surveys`` / ``survey_submissions``) and scope (``surveys.readonly``)."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from ghlsync.emulator.routes.forms import list_handler, submissions_handler

routes: list[BaseRoute] = [
    Route(
        "/surveys/submissions",
        submissions_handler("survey", "surveys.readonly", "survey_submissions"),
        methods=["GET"],
    ),
    Route("/surveys/", list_handler("survey", "surveys.readonly", "surveys"), methods=["GET"]),
]
