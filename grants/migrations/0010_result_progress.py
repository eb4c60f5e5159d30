"""The post's progress on an aimed-at intended result is called what it is: `ResultProgress`
(it was `ResultNarrative`, beside the plan's unrelated `narrative`). Table, history and
constraint follow the name; no data changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0009_publication_decided_by_the_ministry"),
        ("priorities", "0002_load_priorities"),
        migrations.swappable_dependency("auth.User"),
    ]

    operations = [
        migrations.RenameModel("ResultNarrative", "ResultProgress"),
        migrations.RenameModel("HistoricalResultNarrative", "HistoricalResultProgress"),
        migrations.AlterField(
            model_name="resultprogress",
            name="report",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="progress",
                to="grants.annualreport",
                verbose_name="annual report",
            ),
        ),
        migrations.AlterField(
            model_name="resultprogress",
            name="intended_result",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="report_progress",
                to="priorities.intendedresult",
                verbose_name="intended result",
            ),
        ),
        migrations.RemoveConstraint(
            model_name="resultprogress", name="result_narrative_once_per_report_r13"
        ),
        migrations.AddConstraint(
            model_name="resultprogress",
            constraint=models.UniqueConstraint(
                fields=("report", "intended_result"), name="result_progress_once_per_report_r13"
            ),
        ),
    ]
