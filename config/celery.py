"""The Celery app: workers and beat run `celery -A config worker|beat`."""

import contextlib
import os
import sys
from pathlib import Path

from celery import Celery
from celery.signals import beat_init, before_task_publish, worker_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("mensenrechtenfonds")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@beat_init.connect
def refuse_unsafe_production(**_signal) -> None:
    """With DEBUG off, a worker or beat without a real broker, mail server, shared cache or
    report recipients does not start (config.checks)."""
    import django
    from django.core.exceptions import ImproperlyConfigured

    django.setup()
    from config.checks import refuse_to_start_if_unsafe

    try:
        refuse_to_start_if_unsafe()
    except ImproperlyConfigured as error:
        sys.stderr.write(f"{error}\n")
        raise SystemExit(1) from error


_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


@worker_init.connect
@beat_init.connect
@before_task_publish.connect
def make_embedded_broker_folders(**_signal) -> None:
    """The development broker (kombu's filesystem transport) keeps its messages in folders;
    they are made when a worker, beat or a sender first needs them, never at import."""
    if not str(app.conf.broker_url or "").startswith("filesystem://"):
        return
    options = app.conf.broker_transport_options or {}
    for key in _FOLDERS:
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@worker_ready.connect
def catch_up(sender=None, **_signal) -> None:
    """A worker that starts (after a crash, a deploy, a broker outage) first catches up: the
    owed reports are made and the waiting e-mails delivered, without waiting for beat."""
    for task in ("reports.tasks.sweep", "outbox.tasks.deliver"):
        # A broker that went away again: beat's next sweep does it.
        with contextlib.suppress(Exception):
            app.send_task(task, ignore_result=True)
