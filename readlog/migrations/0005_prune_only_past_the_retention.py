"""R11: even while pruning, the trigger lets through only records past the retention that
prune() was asked for (SET LOCAL readlog.keep_days), and never the record of a pruning."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION readlog_refuse_change() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('readlog.pruning', true) = 'on'
       AND OLD.kind <> 'pruned'
       AND coalesce(current_setting('readlog.keep_days', true), '') ~ '^[1-9][0-9]*$'
       AND OLD.at < now() - make_interval(days => current_setting('readlog.keep_days')::int)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the read log is append-only (R11): % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql;
"""


def replace(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [("readlog", "0004_read_base_manager")]
    operations = [migrations.RunPython(replace, migrations.RunPython.noop)]
