"""Forms and surveys with their submissions. Wire shapes: ``apps/forms.json``, ``apps/surveys.json``.

Submissions page by ``page`` + ``limit`` (max 100) with a date window ``startAt`` / ``endAt``
(``YYYY-MM-DD``). HighLevel defaults ``startAt`` to a month ago, which would silently cut
history, so a full read sends ``EARLIEST`` explicitly.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypedDict

from ghlsync.client.pagination import OffsetPaginator, PageNumberPaginator, PageStream
from ghlsync.client.resources._base import Resource, records_from, to_wire
from ghlsync.client.resources.wire import DateTime

EARLIEST = dt.date(2010, 1, 1)
MAX_PAGE = 100


class Submission(TypedDict, total=False):
    """What form and survey submissions share."""

    id: str
    contactId: str
    name: str
    email: str
    createdAt: DateTime
    others: dict[str, Any]


class _OfForm(TypedDict, total=False):
    formId: str


class _OfSurvey(TypedDict, total=False):
    surveyId: str


class FormSubmission(_OfForm, Submission, total=False):
    """A record of ``forms.submission_pages`` (``formId`` first)."""


class SurveySubmission(_OfSurvey, Submission, total=False):
    """A record of ``surveys.submission_pages`` (``surveyId`` first)."""


def _day(value: dt.date | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()[:10]


class _FormLike(Resource):
    """Shared by forms and surveys: the same two endpoints under another prefix."""

    prefix = "/forms"
    records = "forms"
    id_param = "form_id"

    def pages(
        self, location_id: str, *, kind: str | None = None, page_size: int = MAX_PAGE
    ) -> PageStream:
        """Every form (survey) definition: ``GET {prefix}/`` with ``skip`` + ``limit``."""
        params = to_wire({"location_id": location_id, "type": kind})
        paginator = OffsetPaginator(
            self._get(f"{self.prefix}/", params, location_id=location_id),
            records=self.records,
            page_size=page_size,
            offset_param="skip",
            total=("total",),
        )
        return self._stream(paginator)

    iterate = records_from(pages)

    def submission_pages(
        self,
        location_id: str,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        parent_id: str | None = None,
        q: str | None = None,
        page_size: int = MAX_PAGE,
    ) -> PageStream:
        """Every submission from ``since`` (a day; default ``EARLIEST``) to ``until``."""
        params = to_wire(
            {
                "location_id": location_id,
                self.id_param: parent_id,
                "q": q,
                "start_at": _day(since) or EARLIEST.isoformat(),
                "end_at": _day(until),
            }
        )
        paginator = PageNumberPaginator(
            self._get(f"{self.prefix}/submissions", params, location_id=location_id),
            records="submissions",
            page_size=min(page_size, MAX_PAGE),
        )
        return self._stream(paginator)

    iterate_submissions = records_from(submission_pages)


class FormsResource(_FormLike):
    """``client.forms``: ``GET /forms/`` and ``GET /forms/submissions`` (``parent_id`` = formId)."""


class SurveysResource(_FormLike):
    """``client.surveys``: ``GET /surveys/`` and ``GET /surveys/submissions``
    (``parent_id`` = surveyId)."""

    prefix = "/surveys"
    records = "surveys"
    id_param = "survey_id"
