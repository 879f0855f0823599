from __future__ import annotations

import pytest

from ghlsync import errors


def test_status_maps_to_the_right_class() -> None:
    cases = {
        400: errors.InvalidRequestError,
        422: errors.InvalidRequestError,
        401: errors.AuthError,
        403: errors.ForbiddenError,
        404: errors.NotFoundError,
        429: errors.RateLimitError,
        503: errors.ServerError,
        418: errors.APIError,
    }
    for status, cls in cases.items():
        err = errors.error_for_status(status=status, method="GET", path="/x", body={})
        assert type(err) is cls, status


def test_scope_and_expiry_are_told_apart() -> None:
    scope = errors.error_for_status(
        status=401,
        method="POST",
        path="/contacts/",
        body={"statusCode": 401, "message": "The token is not authorized for this scope."},
    )
    expired = errors.error_for_status(
        status=401, method="GET", path="/contacts/", body={"message": "Invalid JWT: expired"}
    )
    assert isinstance(scope, errors.AuthError) and scope.reason == "scope"
    assert "scope" in scope.hint
    assert isinstance(expired, errors.AuthError) and expired.reason == "expired"


def test_message_list_and_trace_id_are_kept() -> None:
    err = errors.error_for_status(
        status=422,
        method="POST",
        path="/contacts/",
        body={
            "message": ["property foo should not exist", "email must be an email"],
            "traceId": "t-1",
        },
    )
    assert err.messages == ["property foo should not exist", "email must be an email"]
    assert err.trace_id == "t-1"
    assert "t-1" in str(err) and "foo" in str(err)


def test_duplicate_create_names_the_existing_contact() -> None:
    err = errors.error_for_status(
        status=400,
        method="POST",
        path="/contacts/",
        body={"message": "duplicate", "meta": {"contactId": "c1", "matchingField": "email"}},
    )
    assert isinstance(err, errors.DuplicateContactError)
    assert (err.contact_id, err.matching_field) == ("c1", "email")


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abc.def.ghi-SECRET",
        '{"access_token": "SECRET123", "x": 1}',
        "refresh_token=SECRET456&grant_type=refresh_token",
        "client_secret: SECRET789",
    ],
)
def test_secrets_are_redacted_from_messages_and_reprs(text: str) -> None:
    err = errors.GHLSyncError(text, hint=text)
    for rendered in (str(err), repr(err), err.hint):
        assert "SECRET" not in rendered
