"""`python manage.py export_iati [--year Y] [--out FILE]`: the IATI 2.03 publication file,
written now (the same code as the monthly Celery task), validated before it is written."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grants.access import system_actor
from reports.iati.export import InvalidExport, write_export
from reports.iati.services import make_export


class Command(BaseCommand):
    help = (
        "Write the IATI 2.03 activity file of the fund's projects under the sensitivity "
        "policy (R11). Without --out it is kept as an export in the admin."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Only projects with money in this year.")
        parser.add_argument("--out", type=Path, help="Write the file here instead.")

    def handle(self, *args, year, out, **options):
        try:
            if out is not None:
                counts = write_export(out, year=year)
                where = out
            else:
                export = make_export(actor=system_actor("tasks"), year=year)
                counts = {
                    "full": export.full,
                    "reduced": export.reduced,
                    "excluded": export.excluded,
                }
                where = export.file.path
        except InvalidExport as error:
            raise CommandError(f"Not written: the file does not validate: {error}") from error
        self.stdout.write(
            f"{where}: valid IATI 2.03; {counts['full']} activities in full, "
            f"{counts['reduced']} reduced, {counts['excluded']} left out (R11)."
        )
