"""`python manage.py export_iati [--year Y] [--out FILE]`: the IATI 2.03 publication file,
written now (the same code as the monthly Celery task), validated before it is written."""

import shutil
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from fund.access import system_actor
from readlog import services as readlog
from readlog.models import Door, Kind
from reports.iati.export import Disclosure, InvalidExport
from reports.iati.services import make_export


class Command(BaseCommand):
    help = (
        "Write the IATI 2.03 activity file of the fund's projects under the disclosure "
        "policy (R11). It is always kept as an export in the admin (the attacker check reads "
        "every file published); --out also copies it to a file."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Only projects with money in this year.")
        parser.add_argument("--out", type=Path, help="Also copy the file here.")

    def handle(self, *args, year, out, **options):
        try:
            export = make_export(actor=system_actor("tasks"), year=year)
        except Disclosure as error:
            raise CommandError(str(error)) from error
        except InvalidExport as error:
            raise CommandError(
                _("Not written: the file does not validate: %(error)s") % {"error": error}
            ) from error
        where = export.file.name  # in the file storage (a folder or a bucket)
        if out is not None:
            with export.file.open("rb") as source, open(out, "wb") as copy:
                shutil.copyfileobj(source, copy)
            where = out
            # R11: a copy left the storage; the read log says where to.
            readlog.record_now(None, Kind.IATI_FILE, [export.pk], door=Door.COMMAND,
                               path=str(out))  # fmt: skip
        self.stdout.write(
            _(
                "%(where)s: valid IATI 2.03; %(full)s activities in full, %(reduced)s reduced, "
                "%(withheld)s held back, %(excluded)s left out (R11); the smallest anonymity "
                "set is %(smallest)s posts."
            )
            % {
                "where": where,
                "full": export.full,
                "reduced": export.reduced,
                "withheld": export.withheld,
                "excluded": export.excluded,
                "smallest": export.smallest_anonymity_set,
            }
        )
