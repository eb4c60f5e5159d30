from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _create_roles(sender, **kwargs) -> None:
    from fund.access import ensure_roles

    ensure_roles()


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = _("Fund, plans and projects")

    def ready(self) -> None:
        from fund import access  # noqa: F401  registers the policy's permissions (fund.*)

        # The ministry roles exist after every migrate (idempotent).
        post_migrate.connect(_create_roles, sender=self, dispatch_uid="grants_create_roles")
