from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    # Not the annual reports of the posts (grants.AnnualReport): the ministry's own overviews.
    verbose_name = _("Summary reports and publication")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .schedules import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self)
