"""The fund's rules as constants, the one domain error, and small pure checks.

Rule ids (R1…R13) refer to DOMAIN.md, which traces each to the 2024–2025 letters to parliament.
Services call these; nothing else decides a rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

# R7: the reformed, focused fund starts with fund year 2026 (letter 003).
REFORM_START_YEAR = 2026
# R1: at most 31 bilateral and 5 multilateral posts per reformed fund year (letter 003).
MAX_BILATERAL_POSTS = 31
MAX_MULTILATERAL_POSTS = 5
# R2: at most two of the 5+1 priorities per post and year (letter 003, footnote 3).
MAX_PRIORITIES_PER_PLAN = 2
ZERO = Decimal("0.00")


class FundRuleError(ValidationError):
    """A breach of one of the fund's rules R1–R13.

    Subclasses ValidationError so that Django forms show it as a form error; `rule` is the
    rule id (used as the error `code` by the API) and `field` names the input at fault.
    """

    def __init__(self, rule: str, message, *, field: str | None = None, params=None):
        self.rule = rule
        self.field = field
        self.rule_message = message
        super().__init__(message, code=rule, params=params)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.formatted_message}"

    @property
    def formatted_message(self) -> str:
        return str(self.messages[0])


def eur(amount: Decimal | None) -> str:
    """Money as the active language writes it: '€ 1.234.567,89' in Dutch."""
    if amount is None:
        return "—"
    # A no-break space keeps the sign with the number in narrow table columns.
    return f"€\u00a0{number_format(amount, 2, use_l10n=True, force_grouping=True)}"


def is_reformed_year(year: int) -> bool:
    """R7: the reformed rules (R1, R2) apply from 2026 on."""
    return year >= REFORM_START_YEAR


def ensure_year_writable(year: int, *, history_import: bool = False, field: str | None = None):
    """R7: years before the reform are history and read-only, except for a historical import."""
    if not is_reformed_year(year) and not history_import:
        raise FundRuleError(
            "R7",
            _(
                "Fund year %(year)s is before the reform of %(start)s and is read-only "
                "history; it can only be loaded by a historical import."
            ),
            field=field,
            params={"year": year, "start": REFORM_START_YEAR},
        )


def ensure_money(amount, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """R5: money is EUR with cents as Decimal; never a float, never negative."""
    if isinstance(amount, float | bool):
        raise FundRuleError(
            "R5", _("Amounts must be exact decimal euros, not floating point."), field=field
        )
    try:
        value = Decimal(str(amount)) if not isinstance(amount, Decimal) else amount
    except Exception as exc:
        raise FundRuleError(
            "R5", _("'%(value)s' is not an amount in euros."), field=field, params={"value": amount}
        ) from exc
    if not value.is_finite():
        raise FundRuleError(
            "R5", _("'%(value)s' is not an amount in euros."), field=field, params={"value": amount}
        )
    if value != value.quantize(Decimal("0.01")):
        raise FundRuleError(
            "R5", _("Amounts are in euros with at most two decimals (cents)."), field=field
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise FundRuleError(
            "R5",
            _("Amounts must be positive.") if not allow_zero else _("Amounts cannot be negative."),
            field=field,
        )
    if value >= Decimal("1e12"):
        raise FundRuleError("R5", _("Amount is larger than the fund can hold."), field=field)
    return value.quantize(Decimal("0.01"))


def ensure_within(
    *, total: Decimal, limit: Decimal, message, field: str | None = None, params=None
):
    """R5: a sum of money never exceeds its ceiling."""
    if total > limit:
        raise FundRuleError("R5", message, field=field, params=params)


def ensure_period(start: date, end: date):
    """R9: a project has a start and an end date, the end after the start."""
    if start is None or end is None:
        raise FundRuleError("R9", _("A project needs a start and an end date."), field="end_date")
    if end <= start:
        raise FundRuleError("R9", _("The end date must be after the start date."), field="end_date")


def ensure_budget_years_in_period(years: Iterable[int], start: date, end: date):
    """R9: budget lines only for calendar years the project runs in."""
    outside = sorted(y for y in years if not start.year <= y <= end.year)
    if outside:
        raise FundRuleError(
            "R9",
            _("Budget lines for %(years)s fall outside the project period %(start)s–%(end)s."),
            field="budget",
            params={
                "years": ", ".join(map(str, outside)),
                "start": start.isoformat(),
                "end": end.isoformat(),
            },
        )


def ensure_distinct_priorities(codes: list[str], *, year: int):
    """R2: different priorities, and from 2026 at most two."""
    if len(set(codes)) != len(codes):
        raise FundRuleError(
            "R2", _("A priority can be chosen only once per plan."), field="priorities"
        )
    if len(codes) > MAX_PRIORITIES_PER_PLAN:
        raise FundRuleError(
            "R2",
            _(
                "A post chooses at most %(max)s of the 5+1 priorities per year; "
                "this plan would have %(count)s."
            ),
            field="priorities",
            params={"max": MAX_PRIORITIES_PER_PLAN, "count": len(codes)},
        )
