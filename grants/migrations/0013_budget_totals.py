"""R4, R5: the budget lines' sums (and number) per post, year, priority and project status,
kept by PostgreSQL.

A table and two triggers: a budget line's insert, update or delete adds its change to the
sum of its project's post, year, priority and status; a project's change of status,
priority or post moves its lines from the one sum to the other. Every way of writing
(services, imports, bulk inserts, SQL by hand) is covered, and each change is one upsert of
one row, locked until its transaction ends, so concurrent writes add up. The table starts
from the lines there are. Other databases (SQLite in development) have the table, empty,
and no triggers: the selectors sum the lines there (grants.selectors)."""

from django.db import migrations, models

CREATE = """
CREATE FUNCTION grants_budgettotal_add(
    post bigint, year integer, priority bigint, status text, amount numeric, lines integer
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO grants_budgettotal (post_id, year, priority_id, status, amount, lines)
    VALUES (post, year, priority, status, amount, lines)
    ON CONFLICT (post_id, year, priority_id, status)
    DO UPDATE SET amount = grants_budgettotal.amount + EXCLUDED.amount,
                  lines = grants_budgettotal.lines + EXCLUDED.lines
$$;

-- The project is read FOR SHARE: a concurrent change of its status (or priority, or post)
-- then waits for this line's transaction, or this line for it, and is read as it is after
-- (without it, a line written while the status changes could land in the old cell). Read
-- into variables first: a function called in the locking query's own select list would run
-- once on the row as it was and again on the row as it is after the wait.
CREATE FUNCTION grants_budgetline_to_total() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    project record;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        SELECT p.post_id, p.priority_id, p.status INTO project
        FROM grants_project p WHERE p.id = OLD.project_id FOR SHARE;
        IF FOUND THEN
            PERFORM grants_budgettotal_add(project.post_id, OLD.year, project.priority_id,
                                           project.status, -OLD.amount, -1);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        SELECT p.post_id, p.priority_id, p.status INTO project
        FROM grants_project p WHERE p.id = NEW.project_id FOR SHARE;
        IF FOUND THEN
            PERFORM grants_budgettotal_add(project.post_id, NEW.year, project.priority_id,
                                           project.status, NEW.amount, 1);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER budget_line_to_total
AFTER INSERT OR UPDATE OR DELETE ON grants_budgetline
FOR EACH ROW EXECUTE FUNCTION grants_budgetline_to_total();

CREATE FUNCTION grants_project_to_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM grants_budgettotal_add(OLD.post_id, b.year, OLD.priority_id, OLD.status,
                                   -b.amount, -1)
    FROM grants_budgetline b WHERE b.project_id = OLD.id;
    PERFORM grants_budgettotal_add(NEW.post_id, b.year, NEW.priority_id, NEW.status,
                                   b.amount, 1)
    FROM grants_budgetline b WHERE b.project_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER project_to_total
AFTER UPDATE OF status, priority_id, post_id ON grants_project
FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.priority_id IS DISTINCT FROM NEW.priority_id
      OR OLD.post_id IS DISTINCT FROM NEW.post_id)
EXECUTE FUNCTION grants_project_to_total();

-- TRUNCATE fires no row triggers: emptying the lines empties their sums.
CREATE FUNCTION grants_budgetline_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM grants_budgettotal;
    RETURN NULL;
END
$$;

CREATE TRIGGER budget_lines_truncated
AFTER TRUNCATE ON grants_budgetline
FOR EACH STATEMENT EXECUTE FUNCTION grants_budgetline_truncated();

INSERT INTO grants_budgettotal (post_id, year, priority_id, status, amount, lines)
SELECT p.post_id, b.year, p.priority_id, p.status, SUM(b.amount), COUNT(*)
FROM grants_budgetline b JOIN grants_project p ON p.id = b.project_id
GROUP BY p.post_id, b.year, p.priority_id, p.status;
"""

DROP = """
DROP TRIGGER budget_lines_truncated ON grants_budgetline;
DROP FUNCTION grants_budgetline_truncated();
DROP TRIGGER project_to_total ON grants_project;
DROP FUNCTION grants_project_to_total();
DROP TRIGGER budget_line_to_total ON grants_budgetline;
DROP FUNCTION grants_budgetline_to_total();
DROP FUNCTION grants_budgettotal_add(bigint, integer, bigint, text, numeric, integer);
DELETE FROM grants_budgettotal;
"""


def on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("countries", "0006_public_id_label"),
        ("grants", "0012_project_start_date_index"),
        ("priorities", "0002_load_priorities"),
    ]

    operations = [
        migrations.CreateModel(
            name="BudgetTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("planned", "Planned"),
                            ("active", "Active (committed)"),
                            ("completed", "Completed"),
                            ("cancelled", "Cancelled"),
                        ],
                        max_length=20,
                    ),
                ),
                ("amount", models.DecimalField(decimal_places=2, default=0, max_digits=16)),
                ("lines", models.IntegerField(default=0)),
                (
                    "post",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="countries.post",
                    ),
                ),
                (
                    "priority",
                    models.ForeignKey(
                        on_delete=models.deletion.CASCADE,
                        related_name="+",
                        to="priorities.priority",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("post", "year", "priority", "status"),
                        name="budget_total_one_per_cell",
                    )
                ],
            },
        ),
        migrations.RunPython(on_postgresql(CREATE), on_postgresql(DROP)),
    ]
