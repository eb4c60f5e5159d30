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


def ensure_schedules(**kwargs) -> None:
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    for name, (kind, (minute, hour, day_of_week, day_of_month, month)) in SCHEDULES.items():
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
            task="reports.tasks.make_report",
            crontab=crontab,
            args=json.dumps([kind]),
        )
