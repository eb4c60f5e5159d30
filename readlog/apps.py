from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadlogConfig(AppConfig):
    name = "readlog"
    verbose_name = _("Read log")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from .selectors import forget_terms

        # What counts as confidential changes with these rows: the matcher is rebuilt.
        for model in ("countries.Post", "countries.Participation", "grants.Partner"):
            post_save.connect(forget_terms, sender=model, dispatch_uid=f"readlog:{model}")
            post_delete.connect(forget_terms, sender=model, dispatch_uid=f"readlog-d:{model}")
