from django.db import migrations


def load(apps, schema_editor):
    from countries.reference import load_countries

    load_countries(apps.get_model("countries", "Country"))


class Migration(migrations.Migration):
    dependencies = [("countries", "0002_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
