"""What the grants services share: the fund year's and post's locks, the participation
check (R6) and the resolving of named priorities and intended results (R3, R13). The
plumbing itself (transaction, access, validation) is the kernel's (fund.services); the
money reads the rules count with are selectors (grants.selectors).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _

from countries.models import Participation, Post
from fund.checks import (
    FundRuleError,
    ensure_instances,
    invalid,
)
from fund.services import locked
from grants.models import (
    FundYear,
)
from priorities.models import IntendedResult, Priority


def lock_fund_year(fund_year: FundYear | int) -> FundYear:
    """The fund year under its lock: the first lock of the order (R1, the envelope of R5)."""
    return locked(FundYear, fund_year, what=_("fund year"), field="fund_year")


def lock_post(post: Post | int) -> Post:
    """The post under its lock: a post's money, plans and projects (R2, R4, R5)."""
    return locked(Post, post, what=_("post"), field="post")


def ensure_participates(post: Post, year: int, *, field: str | None = None) -> None:
    """R6: only posts selected for a year get budget, plans or projects for it."""
    if not Participation.objects.filter(post=post, fund_year__year=year, selected=True).exists():
        raise FundRuleError(
            "R6",
            _("The post does not take part in the fund in %(year)s."),
            field=field,
            params={"year": year},
        )


def resolve_priority(value: Priority | str, *, field: str = "priorities") -> Priority:
    """R3: only the 5+1 priorities exist (read from the database, not from the caller's copy);
    an unknown code is refused by name."""
    priority = None
    if isinstance(value, Priority) and isinstance(value.pk, int):
        priority = Priority.objects.filter(pk=value.pk).first()
    elif isinstance(value, str) and "\x00" not in value:
        priority = Priority.objects.filter(code=value).first()
    if priority is None:
        raise FundRuleError(
            "R3",
            _("'%(code)s' is not one of the 5+1 thematic priorities."),
            field=field,
            params={"code": str(value)[:40]},
        )
    return priority


def resolve_intended_results(values, *, field: str) -> list[IntendedResult]:
    """Intended results named by stored object or by code, read from the database (R13);
    an unknown code is refused by name."""
    values = as_list(values, field=field)
    codes = [value for value in values if isinstance(value, str)]
    # No code holds a NUL character, and PostgreSQL refuses one in a query: unknown at once.
    lookable = [code for code in codes if "\x00" not in code]
    by_code = IntendedResult.objects.in_bulk(lookable, field_name="code") if lookable else {}
    unknown = [code for code in codes if code not in by_code]
    if unknown:
        raise FundRuleError(
            "R13",
            _("'%(code)s' is not an intended result of the 5+1 priorities."),
            field=field,
            params={"code": unknown[0][:80]},
        )
    named = [by_code[value] if isinstance(value, str) else value for value in values]
    return ensure_instances(named, IntendedResult, rule="R13", field=field)


def as_list(items, *, field: str) -> list:
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise invalid(_("Give a list."), field=field)
    return list(items)
