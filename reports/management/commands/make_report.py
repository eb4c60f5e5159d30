"""`python manage.py make_report weekly|monthly|results|reminder [--period …]`: the scheduled
report, made now and synchronously (the same code as the Celery task), for operators. Its
e-mails go to the outbox with it; `--deliver` also hands them to the mail server now."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from outbox.services import deliver_due
from reports import services
from reports.models import ReportKind


class Command(BaseCommand):
    help = "Make a report now (once per kind and period) and e-mail it to the recipients."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ReportKind.values)
        parser.add_argument("--period", help="2026-W48 (weekly), 2026-11 (monthly), 2026.")
        parser.add_argument(
            "--deliver",
            action="store_true",
            help="Deliver the outbox now instead of leaving it to the workers.",
        )

    def handle(self, *args, kind, period, deliver, **options):
        report, made = services.build_report(kind, period)
        state = _("made") if made else _("already there")
        status = report.get_status_display()
        self.stdout.write(f"{report}: {state} ({_('status')} {status}, id {report.pk}).")
        if deliver:
            outcomes = deliver_due()
            self.stdout.write(
                _("E-mails sent: %(sent)s, waiting: %(queued)s, not delivered: %(dead)s.")
                % {
                    "sent": outcomes.get("sent", 0),
                    "queued": outcomes.get("queued", 0),
                    "dead": outcomes.get("dead", 0),
                }
            )
