"""`python manage.py seed_demo [--scale N]`: the fictional demo world, through the services."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from tqdm import tqdm

from fund.access import system_actor
from seeds import demo


class Command(BaseCommand):
    help = (
        "Build the fictional demo world (fund years 2025–2027, 31 + 5 demo posts in 2026, "
        "phased-out posts, plans, partners, projects, money, results) and a demo superuser. "
        "Running it again changes nothing. --scale N adds N times the demo's projects as "
        "synthetic projects (for benchmarks)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="Add N × the demo's number of projects as small synthetic projects.",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed although DEBUG is off (the demo login is public knowledge).",
        )

    def handle(self, *args, scale: int, allow_production: bool, **options):
        if scale < 0:
            raise CommandError("--scale must be 0 or more.")
        if not (settings.DEBUG or settings.TESTING or allow_production):
            raise CommandError(
                "Refusing to seed demo data with DEBUG off: this looks like production. "
                "Pass --allow-production if this really is a demo server."
            )
        _admin, admin_created = demo.ensure_admin()
        # Seeds act as the system (recorded as "systeem-seed" in every history), not as a person.
        actor = system_actor("seed")
        result = demo.build_demo_world(actor=actor)
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    _("Demo world created: %(posts)s demo posts, %(projects)s projects.")
                    % {"posts": result.posts, "projects": result.projects}
                )
            )
        else:
            self.stdout.write(_("Demo world already present: nothing changed."))

        if scale:
            base = demo.DEMO_BASE_PROJECTS
            count = scale * base
            started = time.monotonic()
            with tqdm(total=count, unit="project", disable=None) as progress:
                created = demo.add_synthetic_projects(actor=actor, count=count, progress=progress)
            seconds = time.monotonic() - started
            rate = created / seconds if seconds else 0
            self.stdout.write(
                self.style.SUCCESS(
                    _(
                        "Added %(created)s synthetic projects (%(scale)s × %(base)s) in "
                        "%(seconds).1f s (%(rate).0f projects/s)."
                    )
                    % {
                        "created": created,
                        "scale": scale,
                        "base": base,
                        "seconds": seconds,
                        "rate": rate,
                    }
                )
            )

        summary = demo.demo_summary()
        self.stdout.write(
            _(
                "Totals: %(posts)s demo posts, %(participants_2026)s participants in 2026, "
                "%(plans)s annual plans, %(projects)s projects."
            )
            % summary
        )
        if admin_created:
            self.stdout.write(
                self.style.WARNING(
                    _(
                        "Admin login (demo only): username '%(username)s', password "
                        "'%(password)s' — at /admin/"
                    )
                    % {"username": demo.ADMIN_USERNAME, "password": demo.DEMO_ADMIN_PASSWORD}
                )
            )
        else:
            self.stdout.write(
                _(
                    "Admin login: username '%(username)s' (already existed; its password was left "
                    "as it was — the demo password is '%(password)s')."
                )
                % {"username": demo.ADMIN_USERNAME, "password": demo.DEMO_ADMIN_PASSWORD}
            )
