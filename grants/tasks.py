"""Celery tasks of the grants app (autodiscovered by their module name)."""

from .notifications import notify_plan_step, notify_report_step

__all__ = ["notify_plan_step", "notify_report_step"]
