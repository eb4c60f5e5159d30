"""R13: plans made before aims existed aim at every intended result of their chosen
priorities, as a newly chosen priority does (grants.services.plans), so that no project's
intended result is left outside its plan."""

from django.db import migrations


def aim_at_all_results(apps, schema_editor):
    PlanPriority = apps.get_model("grants", "PlanPriority")
    PlanAim = apps.get_model("grants", "PlanAim")
    IntendedResult = apps.get_model("priorities", "IntendedResult")
    results = {}
    for result_id, priority_id in IntendedResult.objects.values_list("pk", "priority_id"):
        results.setdefault(priority_id, []).append(result_id)
    PlanAim.objects.bulk_create(
        [
            PlanAim(plan_priority_id=chosen_id, intended_result_id=result_id)
            for chosen_id, priority_id in PlanPriority.objects.values_list("pk", "priority_id")
            for result_id in results.get(priority_id, [])
        ],
        batch_size=5000,
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("grants", "0006_annual_report_and_plan_aims"),
        ("priorities", "0002_load_priorities"),
    ]

    operations = [migrations.RunPython(aim_at_all_results, migrations.RunPython.noop)]
