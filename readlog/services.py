"""Recording reads of confidential data (R11), and the one removal: pruning past the
retention. A request's reads are collected while it runs and written in one insert when its
response is ready (readlog.middleware); outside a request (a command, a task) at once."""

from __future__ import annotations

import json
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import Door, Kind, Read
from .selectors import Found, find, readable

_PENDING = "_readlog_pending"
SCANNED_TYPES = ("text/html", "application/json", "application/problem+json", "text/csv",
                 "text/plain", "application/xml", "text/xml")  # fmt: skip


def note(
    request,
    kind: str,
    ids=(),
    *,
    year: int | None = None,
    door: str | None = None,
    purpose: str = "",
    count: int | None = None,
) -> None:
    """Record (when the response is ready) that this request showed confidential data."""
    ids = sorted({str(i) for i in ids})
    if getattr(request, _PENDING, None) is None:
        setattr(request, _PENDING, [])
    read = Read(
        user=_user(request),
        kind=kind,
        door=door or door_of(request),
        path=_path(request),
        year=year,
        object_ids=ids,
        count=len(ids) if count is None else count,
        purpose=purpose[:200],
    )
    getattr(request, _PENDING).append(read)


def record_now(
    user, kind: str, ids=(), *, door: str, path: str = "", year: int | None = None,
    purpose: str = "",
) -> Read:  # fmt: skip
    """A read outside a request (a management command, a scheduled task)."""
    ids = sorted({str(i) for i in ids})
    return Read.objects.create(
        user=user, kind=kind, door=door, path=path[:300], year=year, object_ids=ids,
        count=len(ids), purpose=purpose[:200],
    )  # fmt: skip


def door_of(request) -> str:
    path = request.path
    if path.startswith("/api/"):
        return Door.API
    if "/export/" in path:
        return Door.EXPORT
    if "/import/" in path or "/process_import/" in path:
        return Door.IMPORT
    return Door.ADMIN


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def detected(request, response) -> None:
    """Read what the response shows: a page, list, JSON body, CSV or XLSX file naming
    confidential participants (not merely among every post) or highly sensitive partners is a
    read of them. Streamed files (the IATI download) are noted by their views."""
    if response.streaming or response.status_code != 200:
        return
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    if content_type in SCANNED_TYPES:
        text = response.content.decode(response.charset or "utf-8", errors="replace")
    elif content_type == XLSX:
        text = _xlsx_text(response.content)
    else:
        return
    text = readable(text, content_type)
    from fund.access import profile_of

    own_post = profile_of(request.user).post_id  # an embassy user's; None for the ministry
    found = find(text, own_post=own_post)
    note_found(request, found, door=Door.FILE if content_type == XLSX else None)


def _xlsx_text(content: bytes) -> str:
    """The strings of a spreadsheet (its shared strings and inline cells), as XML text."""
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "\n".join(
            book.read(name).decode("utf-8", errors="replace")
            for name in book.namelist()
            if name.startswith("xl/") and name.endswith(".xml")
        )


def note_found(request, found: Found, *, door: str | None = None) -> None:
    if found.reveals_selection():
        by_year: dict[int, set[str]] = {}
        for public_id, years in found.participations.items():
            for year in years:
                by_year.setdefault(year, set()).add(public_id)
        covered = _already(request, Kind.PARTICIPATION, None)  # the view noted the page
        for year, ids in sorted(by_year.items()):
            if not covered and not _already(request, Kind.PARTICIPATION, year):  # one a year
                note(request, Kind.PARTICIPATION, ids, year=year, door=door)
    if found.partners and not _already(request, Kind.PARTNER, None):
        note(request, Kind.PARTNER, found.partners, door=door)


def flush(request) -> int:
    """Write the request's reads in one insert (in its own transaction: the response is
    sent only when its reads are kept)."""
    pending = getattr(request, _PENDING, None)
    if not pending:
        return 0
    if connection.in_atomic_block:
        Read.objects.bulk_create(pending)
    else:
        _insert_at_once(pending)
    setattr(request, _PENDING, [])
    return len(pending)


_COLUMNS = ("at", "user_id", "kind", "door", "path", "year", "object_ids", "count", "purpose")


def _insert_at_once(reads: list[Read]) -> None:
    """One multi-row INSERT, atomic by itself: not BEGIN, INSERT, COMMIT (bulk_create's way,
    two more round trips). Its values are plain text and numbers: the ORM's adaptation of a
    JSON list of ids cost several milliseconds a page (docs/performance.md)."""
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    sql = (
        f"INSERT INTO {quote(Read._meta.db_table)} ({', '.join(quote(c) for c in _COLUMNS)}) "
        f"VALUES {', '.join([row] * len(reads))}"
    )
    params: list = []
    for read in reads:
        read.at = read.at or timezone.now()
        params += [
            connection.ops.adapt_datetimefield_value(read.at), read.user_id, read.kind,
            read.door, read.path, read.year, json.dumps(read.object_ids), read.count,
            read.purpose,
        ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def prune(now=None) -> int:
    """Remove reads older than READLOG_KEEP_DAYS (0: keep for good) — the only removal, and
    itself recorded. On PostgreSQL the trigger lets a DELETE through only in this transaction."""
    days = settings.READLOG_KEEP_DAYS
    if not days:
        return 0
    before = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL readlog.pruning = 'on'")
                # The trigger checks each row against it (migration 0005).
                cursor.execute(f"SET LOCAL readlog.keep_days = '{int(days)}'")
        removed, _by_model = models_delete(Read.objects.filter(at__lt=before))
        record_now(
            None, Kind.PRUNED, door=Door.TASK, path=f"before {before:%Y-%m-%d}",
            purpose=f"{removed} reads older than {days} days",
        )  # fmt: skip
    return removed


def models_delete(queryset) -> tuple[int, dict]:
    """The one delete of the read log (prune): past the query set's refusal."""
    from django.db.models import QuerySet

    return QuerySet.delete(queryset)


def _already(request, kind: str, year) -> bool:
    return any(r.kind == kind and r.year == year for r in getattr(request, _PENDING, None) or [])


def _user(request):
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def _path(request) -> str:
    return request.path[:300]  # never the query string: a search may be a partner's name


def unusual_readers(day) -> list[tuple[object, str]]:
    """Who read unusually on `day` (a date, the fund's time zone): more highly sensitive
    partners' identities than READLOG_ALERT_PARTNERS, or the list of participating posts
    outside working hours (READLOG_WORKING_HOURS on weekdays). Returns (user, reason) pairs;
    the reason names kinds and counts, never an object."""
    from collections import Counter
    from datetime import datetime, time

    from django.utils.translation import gettext as _

    zone = timezone.get_current_timezone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    reads = Read.objects.filter(
        at__gte=start, at__lt=start + timedelta(days=1), user__isnull=False
    ).select_related("user")
    partners: Counter = Counter()
    after_hours: Counter = Counter()
    first, last = settings.READLOG_WORKING_HOURS
    users = {}
    for read in reads:
        users[read.user_id] = read.user
        if read.kind == Kind.PARTNER:
            partners[read.user_id] += max(read.count, 1)
        local = timezone.localtime(read.at)
        outside = local.weekday() >= 5 or not first <= local.hour < last
        if read.kind == Kind.PARTICIPATION and outside:
            after_hours[read.user_id] += 1
    found = []
    for user_id, count in sorted(partners.items()):
        if count > settings.READLOG_ALERT_PARTNERS:
            found.append((users[user_id], _("%(count)s readings of highly sensitive partners")
                          % {"count": count}))  # fmt: skip
    for user_id, count in sorted(after_hours.items()):
        found.append((users[user_id], _("%(count)s readings of the participating posts outside "
                                        "working hours") % {"count": count}))  # fmt: skip
    return found


def alert_fund_managers(day) -> int:
    """E-mail the fund managers (through the outbox, once per day) whom the read log shows
    reading unusually; returns how many users were named."""
    from django.contrib.auth import get_user_model
    from django.utils.translation import gettext as _
    from django.utils.translation import override

    from outbox.services import Letter, enqueue

    found = unusual_readers(day)
    if not found:
        return 0
    managers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name="fondsbeheerder")
        .exclude(email="")
    )
    with override(settings.LANGUAGE_CODE):
        lines = "\n".join(f"- {user.get_username()}: {reason}" for user, reason in found)
        subject = _("Read log: unusual reading on %(day)s") % {"day": day.isoformat()}
        body = _(
            "The read log shows unusual reading of confidential data (R11) on %(day)s:\n\n"
            "%(lines)s\n\nSee the admin: Read log → Confidential reads, filtered by user."
        ) % {"day": day.isoformat(), "lines": lines}
    with transaction.atomic():
        enqueue(f"readlog:{day.isoformat()}",
                [Letter(to=m.email, subject=subject, body=body) for m in managers])  # fmt: skip
    return len(found)
