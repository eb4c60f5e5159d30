"""Safe by default: with DEBUG off, the development fallbacks are refused, not silently used.

On several machines an embedded broker is a folder no other machine's worker reads, console
mail is no mail, and a per-process cache lets each web process count the API throttle on its
own. These checks run with every management command (`migrate` on deploy, `check --deploy`)
and when a web or worker process starts (config.wsgi, config.celery), at error level."""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Tags, register

DEVELOPMENT_BROKERS = ("filesystem://", "memory://")
DEVELOPMENT_MAIL = (
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
)
PER_PROCESS_CACHES = (
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
)


def production() -> bool:
    return not (settings.DEBUG or getattr(settings, "TESTING", False))


@register()
def production_services(app_configs=None, **kwargs) -> list[Error]:
    if not production():
        return []
    errors = []
    if str(settings.CELERY_BROKER_URL).startswith(DEVELOPMENT_BROKERS):
        errors.append(
            Error(
                "No message broker: the embedded one works only on one machine.",
                hint="Set CELERY_BROKER_URL, e.g. redis://redis:6379/0 or amqp://…",
                id="fund.E001",
            )
        )
    if settings.EMAIL_BACKEND in DEVELOPMENT_MAIL:
        errors.append(
            Error(
                "No mail server: e-mails would be printed or kept in memory, never sent.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587",
                id="fund.E002",
            )
        )
    if settings.CACHES["default"]["BACKEND"] in PER_PROCESS_CACHES:
        errors.append(
            Error(
                "No shared cache: each process would count the API throttle on its own.",
                hint="Set CACHE_URL, e.g. redis://redis:6379/1",
                id="fund.E003",
            )
        )
    if not settings.FUND_REPORT_RECIPIENTS:
        errors.append(
            Error(
                "No recipients for the periodic reports: they would be made and mailed to nobody.",
                hint="Set FUND_REPORT_RECIPIENTS to one or more addresses, comma-separated.",
                id="fund.E004",
            )
        )
    return errors


@register()
def outbox_lease(app_configs=None, **kwargs) -> list[Error]:
    """An e-mail's lease must outlast the delivery task, or a slow worker's message is sent by
    a second one while the first is still at it."""
    from outbox.services import delivery_hard_limit

    if delivery_hard_limit() < settings.OUTBOX_LEASE_SECONDS:
        return []
    return [
        Error(
            f"OUTBOX_LEASE_SECONDS ({settings.OUTBOX_LEASE_SECONDS}) must exceed the delivery "
            f"task's hard time limit ({delivery_hard_limit()} s).",
            hint="Raise OUTBOX_LEASE_SECONDS, or lower OUTBOX_BATCH_SECONDS or EMAIL_TIMEOUT.",
            id="fund.E005",
        )
    ]


@register(Tags.staticfiles, deploy=True)
def static_files_collected(app_configs=None, **kwargs) -> list[Error]:
    """With DEBUG off every page names its static files by their hashed names, read from the
    manifest `collectstatic` writes: without it, every admin page would fail."""
    if not production():
        return []
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        return []
    return [
        Error(
            f"The static files are not collected ({manifest} is missing).",
            hint="Run `python manage.py collectstatic --no-input` on deploy (the image does).",
            id="fund.E006",
        )
    ]


def refuse_to_start_if_unsafe() -> None:
    """Run the checks at a process's start; an error stops it with the checks' own text."""
    from django.core.checks import run_checks
    from django.core.exceptions import ImproperlyConfigured

    if not production():
        return
    errors = [error for error in run_checks() if error.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(str(error) for error in errors))
