"""R11: on PostgreSQL the database itself refuses to change or delete a read record — whoever
connects through the app, the superuser's admin included. Only readlog.services.prune lets a
DELETE through, in its own transaction (SET LOCAL readlog.pruning = 'on'), and records it."""

from django.db import migrations

TRIGGER = """
CREATE OR REPLACE FUNCTION readlog_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('readlog.pruning', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the read log is append-only (R11): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER readlog_append_only BEFORE UPDATE OR DELETE ON readlog_read
    FOR EACH ROW EXECUTE FUNCTION readlog_refuse_change();
"""
DROP = """
DROP TRIGGER IF EXISTS readlog_append_only ON readlog_read;
DROP FUNCTION IF EXISTS readlog_refuse_change();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TRIGGER, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("readlog", "0001_read_log")]
    operations = [migrations.RunPython(create, drop)]
