from django.db import migrations


def load(apps, schema_editor):
    from priorities.reference import load_reference_data

    load_reference_data(
        apps.get_model("priorities", "Priority"), apps.get_model("priorities", "IntendedResult")
    )


class Migration(migrations.Migration):
    dependencies = [("priorities", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
