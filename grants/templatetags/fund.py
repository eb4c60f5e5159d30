"""Template filters of the fund's screens."""

from django import template

from fund.checks import eur as format_eur

register = template.Library()


@register.filter
def eur(amount):
    """Money as the active language writes it: '€ 1.234.567,89' in Dutch."""
    return format_eur(amount)
