"""The fund's rules as constants, the one domain error, and small pure checks.

Rule ids (R1…R13) are explained in docs/domain.md, which traces each to the letters to
parliament of 2023–2025.
Services call these; nothing else decides a rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from .text import first_forbidden

# The reform letter below is the 2025 letter on the reform of the decentral fund
# (docs/domain.md, Sources).
# R7: the reformed, focused fund starts with fund year 2026 (reform letter).
REFORM_START_YEAR = 2026
# R1: at most 31 bilateral and 5 multilateral posts per reformed fund year (reform letter).
MAX_BILATERAL_POSTS = 31
MAX_MULTILATERAL_POSTS = 5
# R2: at most two of the 5+1 priorities per post and year (reform letter, footnote 3).
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


class StatusConflict(FundRuleError):
    """A write that the object's current status forbids (R10: a frozen plan, a step the cycle
    does not allow from here). The API answers 409 Conflict instead of 400."""


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


# Money fits DecimalField(14, 2): at most 12 digits before the decimal point.
MAX_MONEY = Decimal("1e12")
# Years and dates the fund can record at all (the database checks fund years the same way).
MIN_YEAR = 2000
MAX_YEAR = 2100


def invalid(message, *, field: str | None = None, params=None) -> FundRuleError:
    """An input that is not a value of the right kind at all (code `invalid`)."""
    return FundRuleError("invalid", message, field=field, params=params)


def ensure_money(amount, *, field: str = "amount", allow_zero: bool = True) -> Decimal:
    """R5: money is EUR with cents as Decimal; never a float, never negative, at most
    12 integer digits and 2 decimals."""
    if isinstance(amount, float | bool) or not isinstance(amount, Decimal | int | str):
        raise FundRuleError(
            "R5",
            _("Amounts must be exact decimal euros (a decimal number or text), not %(type)s."),
            field=field,
            params={"type": type(amount).__name__},
        )
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount).strip())
    except (ArithmeticError, ValueError) as exc:
        raise FundRuleError(
            "R5",
            _("'%(value)s' is not an amount in euros."),
            field=field,
            params={"value": str(amount)[:40]},
        ) from exc
    if not value.is_finite():
        raise FundRuleError(
            "R5",
            _("'%(value)s' is not an amount in euros."),
            field=field,
            params={"value": str(amount)[:40]},
        )
    # Compare before quantizing: quantizing a huge number raises InvalidOperation.
    if abs(value) >= MAX_MONEY:
        raise FundRuleError(
            "R5",
            _("Amount is larger than the fund can hold (at most 12 digits before the comma)."),
            field=field,
        )
    cents = value.quantize(Decimal("0.01"))
    if value != cents:
        raise FundRuleError(
            "R5", _("Amounts are in euros with at most two decimals (cents)."), field=field
        )
    if cents < 0 or (cents == 0 and not allow_zero):
        raise FundRuleError(
            "R5",
            _("Amounts must be positive.") if not allow_zero else _("Amounts cannot be negative."),
            field=field,
        )
    return cents + ZERO  # normalises -0.00 to 0.00


def ensure_number(value, *, rule: str = "R13", field: str) -> Decimal:
    """A measured quantity (baseline, target, reported value): exact, at most 12 integer
    digits and 2 decimals, like every number the fund stores."""
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise FundRuleError(rule, _("Give an exact decimal number."), field=field)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (ArithmeticError, ValueError) as exc:
        raise FundRuleError(
            rule, _("'%(value)s' is not a number."), field=field, params={"value": str(value)[:40]}
        ) from exc
    if not number.is_finite() or abs(number) >= MAX_MONEY:
        raise FundRuleError(
            rule,
            _("Give a finite number with at most 12 digits before the comma."),
            field=field,
        )
    rounded = number.quantize(Decimal("0.01"))
    if rounded != number:
        raise FundRuleError(rule, _("Give at most two decimals."), field=field)
    return rounded + ZERO


def ensure_year(value, *, rule: str = "R9", field: str = "year") -> int:
    """A calendar year is a whole number (2027, or the text '2027'), never 2027.9 or True."""
    year = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d{4}\s*", value):
        year = int(value)
    if year is None:
        raise FundRuleError(
            rule, _("'%(year)s' is not a year."), field=field, params={"year": str(value)[:40]}
        )
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise FundRuleError(
            rule,
            _("The year must lie between %(min)s and %(max)s."),
            field=field,
            params={"min": MIN_YEAR, "max": MAX_YEAR},
        )
    return year


def ensure_date(value, *, rule: str = "R9", field: str) -> date:
    """A real calendar date (not a text, not a date-time) in the years the fund can record."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise FundRuleError(rule, _("Give a date."), field=field)
    ensure_year(value.year, rule=rule, field=field)
    return value


def ensure_text(value, *, field: str, max_length: int | None = None, required: bool = False):
    """Text as the database and every file can store it: a string, no NUL, control,
    bidirectional-override or stray invisible characters (fund.text), within its length."""
    if not isinstance(value, str):
        raise invalid(_("Give a text."), field=field)
    if "\x00" in value:
        raise invalid(_("The text contains a NUL character."), field=field)
    forbidden = first_forbidden(value)
    if forbidden is not None:
        position, character = forbidden
        raise invalid(
            _(
                "The text contains an invisible or control character (U+%(code)s) at "
                "position %(position)s; files and e-mails cannot carry it."
            ),
            field=field,
            params={"code": f"{ord(character):04X}", "position": position + 1},
        )
    value = value.strip()
    if required and not value:
        raise invalid(_("This field is required."), field=field)
    if max_length is not None and len(value) > max_length:
        raise invalid(_("At most %(max)s characters."), field=field, params={"max": max_length})
    return value


def ensure_choice(value, choices, *, rule: str = "invalid", field: str) -> str:
    """One of a field's known values (status, type, sensitivity…)."""
    if not isinstance(value, str) or value not in choices.values:
        raise FundRuleError(
            rule,
            _("'%(value)s' is not one of %(choices)s."),
            field=field,
            params={"value": str(value)[:40], "choices": ", ".join(choices.values)},
        )
    return value


def ensure_instance(value, model, *, rule: str = "invalid", field: str):
    """A stored object of the expected kind (a partner, a country…), not an id or a text.

    Read anew from the database: the caller's copy may be unsaved or changed in memory.
    """
    return ensure_instances([value], model, rule=rule, field=field)[0]


def ensure_instances(values, model, *, rule: str = "invalid", field: str) -> list:
    """Stored objects of the expected kind, read anew from the database in one query."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise FundRuleError(rule, _("Give a list."), field=field)
    values = list(values)
    pk_type = str if isinstance(model._meta.pk, models.CharField) else int
    keys = [v.pk if isinstance(v, model) else None for v in values]
    if any(not isinstance(k, pk_type) or isinstance(k, bool) for k in keys):
        raise FundRuleError(
            rule, _("Give an existing %(kind)s."), field=field,
            params={"kind": model._meta.verbose_name},
        )  # fmt: skip
    stored = model.objects.in_bulk(keys)
    if len(stored) != len(set(keys)):
        raise FundRuleError(
            rule, _("Give an existing %(kind)s."), field=field,
            params={"kind": model._meta.verbose_name},
        )  # fmt: skip
    return [stored[k] for k in keys]


def as_domain_error(error: ValidationError) -> FundRuleError:
    """Model validation (`full_clean`) as the domain error: the first field and message.

    A constraint whose message starts with its rule id ('R9: …') keeps that rule.
    """
    if isinstance(error, FundRuleError):
        return error
    if hasattr(error, "error_dict"):
        name, errors = next(iter(error.error_dict.items()))
        field = None if name == NON_FIELD_ERRORS else name
        message = errors[0].messages[0]
    else:
        field, message = None, error.messages[0]
    match = re.match(r"^(R\d{1,2}): ", str(message))
    return FundRuleError(match.group(1) if match else "invalid", message, field=field)


def ensure_within(
    *, total: Decimal, limit: Decimal, message, field: str | None = None, params=None
):
    """R5: a sum of money never exceeds its ceiling."""
    if total > limit:
        raise FundRuleError("R5", message, field=field, params=params)


def ensure_period(start: date, end: date):
    """R9: a project has a start and an end date, the end after the start."""
    if start is None or end is None:
        raise FundRuleError(
            "R9",
            _("A project needs a start and an end date."),
            field="start_date" if start is None else "end_date",
        )
    ensure_date(start, field="start_date")
    ensure_date(end, field="end_date")
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
