"""Error tracking by DSN (Sentry or a compatible service), judged as something that leaves the
ministry (R11): an event says where the code failed, never whom it was about.

Sentry would by default send the request's query string (`?search=<partner name>`), its body,
cookies and headers, the local variables of every frame, every exception's message (psycopg's
`Key (name)=(…) already exists`) and the arguments of log messages. All of that is removed
before an event is sent; what stays is the exception's type, the stack of file names and
lines, the log message's template, the path, the method, the user's id and the request id.
"""

from __future__ import annotations

import logging
from typing import Any

from django_guid.log_filters import CorrelationId

KEPT_HEADERS = {"user-agent", "x-request-id"}
REDACTED = "[removed: R11]"


def scrub(event: dict[str, Any], _hint: Any = None) -> dict[str, Any]:
    """Sentry's before_send (and before_send_transaction): keep only what cannot name anyone.

    An allow-list, not a deny-list: an exception's message (psycopg's DETAIL quotes the row,
    a validation error the value, an SMTP refusal the addresses) and a log message's
    arguments are removed whatever their type; the log message's template stays."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "query_string", "cookies", "env"):
            request.pop(key, None)
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in KEPT_HEADERS}
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = REDACTED
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        event["logentry"] = {"message": logentry.get("message", "")}
    if "message" in event and "logentry" in event:
        event["message"] = event["logentry"]["message"]
    for crumb in (event.get("breadcrumbs") or {}).get("values") or []:
        crumb.pop("data", None)  # the message was reduced when it was recorded (below)
    event.pop("extra", None)
    return event


def _scrub_breadcrumb(crumb: dict[str, Any], hint: dict | None = None) -> dict[str, Any]:
    """Sentry's before_breadcrumb: a log line's template without its arguments; no data (a
    query's parameters, a URL's query string). SQL is kept: the ORM sends values apart."""
    crumb.pop("data", None)
    record = (hint or {}).get("log_record")
    if record is not None:
        crumb["message"] = str(record.msg)
    return crumb


class RequestIdFilter(CorrelationId):
    """The request's (or task's) id on every log line; "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        super().filter(record)
        if not record.correlation_id:
            record.correlation_id = "-"
        return True


class ExpectedRefusalFilter(logging.Filter):
    """A refusal the fund means to give (403, 404, 400) is one line, without the traceback of
    the exception that produced it: a reviewer opening a page their role does not allow is
    not an error of the system. Errors (5xx) keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if 400 <= getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


def start_error_tracking(dsn: str, *, environment: str, release: str | None) -> None:
    import sentry_sdk

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=0.0,
        before_send=scrub,
        before_send_transaction=scrub,
        before_breadcrumb=_scrub_breadcrumb,
    )
