"""Fast project search on PostgreSQL: trigram indexes for `icontains` on project titles and
partner names (pg_trgm). Other databases (SQLite in development) need nothing."""

from django.db import migrations

INDEXES = {
    "project_title_trgm_idx": ("grants_project", "title"),
    "partner_name_trgm_idx": ("grants_partner", "name"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, column) in INDEXES.items():
        # The expression Django's icontains compares: UPPER(column::text) LIKE UPPER(%s).
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" '
            f'USING gin (UPPER("{column}"::text) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("grants", "0004_project_listing_index")]

    operations = [migrations.RunPython(create, drop)]
