"""`python manage.py make_report weekly|monthly|results [--period …]`: the scheduled report,
made now and synchronously (the same code as the Celery task), for operators."""

from django.core.management.base import BaseCommand

from reports import mail, services
from reports.models import ReportKind


class Command(BaseCommand):
    help = "Make a report now (once per kind and period) and e-mail it to the recipients."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ReportKind.values)
        parser.add_argument("--period", help="2026-W48 (weekly), 2026-11 (monthly), 2026.")

    def handle(self, *args, kind, period, **options):
        report, made = services.build_report(kind, period)
        if made:
            mail.send_report(report.pk)
        state = "made" if made else "already there"
        self.stdout.write(f"{report}: {state} (status {report.status}, id {report.pk}).")
