"""The default schedules of the reports, in the database (django-celery-beat), created once:
editable in the admin afterwards, never overwritten."""

import json

SCHEDULES = {
    # name: (kind, crontab: minute, hour, day_of_week, day_of_month, month_of_year)
    "Wekelijkse fondssamenvatting": ("weekly", ("0", "7", "1", "*", "*")),
    "Maandelijkse uitvoeringsrapportage": ("monthly", ("0", "7", "*", "1", "*")),
    "Jaarlijkse resultatenrapportage": ("results", ("0", "7", "*", "15", "1")),
    "Dagelijkse herinnering jaarplannen": ("reminder", ("0", "8", "*", "*", "*")),
}
# Other tasks on a schedule: name → (task, crontab).
TASK_SCHEDULES = {
    "Maandelijkse IATI-publicatie": (
        "reports.tasks.publish_monthly_iati",
        ("0", "5", "*", "2", "*"),
    ),
    # Nothing scheduled is lost: owed, failed and abandoned reports are made, unmailed ones
    # mailed (reports.services.reports_owed); the outbox is delivered every minute.
    "Inhalen van rapportages": ("reports.tasks.sweep", ("*/10", "*", "*", "*", "*")),
    "Bezorgen van e-mail": ("outbox.tasks.deliver", ("*", "*", "*", "*", "*")),
    "Dagelijks opruimen": ("reports.tasks.housekeeping", ("30", "3", "*", "*", "*")),
    # R11: yesterday's unusual reading of confidential data, to the fund managers.
    "Dagelijkse controle van de inzage": (
        "readlog.tasks.check_unusual_reads",
        ("0", "6", "*", "*", "*"),
    ),
}


def ensure_schedules(**kwargs) -> None:
    from django.utils import timezone
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    wanted = {
        name: ("reports.tasks.make_report", crontab, [kind])
        for name, (kind, crontab) in SCHEDULES.items()
    }
    wanted |= {name: (task, crontab, []) for name, (task, crontab) in TASK_SCHEDULES.items()}
    now = timezone.now()
    for name, (task, (minute, hour, day_of_week, day_of_month, month), args) in wanted.items():
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_week=day_of_week,
            day_of_month=day_of_month,
            month_of_year=month,
            timezone="Europe/Amsterdam",
        )
        PeriodicTask.objects.create(
            name=name,
            task=task,
            crontab=crontab,
            args=json.dumps(args),
            # From when the sweep owes this schedule's reports (not the periods before); and
            # "last run now", or beat would count it as never run and fire it at once.
            start_time=now,
            last_run_at=now,
        )
    # Earlier releases scheduled the plain export, which could publish twice a month.
    PeriodicTask.objects.filter(
        name="Maandelijkse IATI-publicatie", task="reports.tasks.export_iati", args="[]"
    ).update(task="reports.tasks.publish_monthly_iati")
    # A schedule of an earlier release owes nothing from before this one was installed.
    PeriodicTask.objects.filter(name__in=wanted, start_time__isnull=True).update(start_time=now)
