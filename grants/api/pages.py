"""The busiest list pages built as JSON by PostgreSQL: one statement per page, with the count.

Why: at 50 projects a page the list's own cost was the ORM building its query (1.6 ms, five
subqueries), turning rows into Python values and those into JSON again; PostgreSQL builds the
same page in about a millisecond (docs/performance.md). The items are exactly what the
serializers give for one object (`ProjectSerializer`, `PlanSerializer`): the detail views
still use those, and a test checks that every listed item equals its detail, for each
filter and ordering. Filters and ordering are validated by the views' own FilterSet and
DRF's OrderingFilter and SearchFilter; only their translation into conditions is here.

Everything interpolated into the SQL text comes from this module, but for the page's limit and
offset, integers the paginator checked; whatever else comes from the request is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import psycopg
from django.db import connection
from django.utils import timezone


def iso_datetime(column: str) -> str:
    """SQL for a timestamp as DRF's DateTimeField writes it: ISO 8601 in the current time
    zone (`%(tz)s`), microseconds only when there are any, `Z` for a zero offset. (An
    expression, not a lateral join: the conversions cost little, each join in the planner's
    search more.)"""
    local = f"({column} AT TIME ZONE %(tz)s)"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"replace(to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '')"
        f" || CASE WHEN {offset} = interval '0' THEN 'Z'"
        f" WHEN {offset} > interval '0' THEN '+' || to_char({offset}, 'HH24:MI')"
        f" ELSE '-' || to_char(-{offset}, 'HH24:MI') END"
    )


def money(expression: str) -> str:
    """SQL for an amount as the serializers write it: a string with two decimals."""
    return f"(({expression})::numeric(16, 2))::text"


@dataclass
class Conditions:
    """WHERE conditions on the list's main table (alias `t`), with their parameters."""

    sql: list[str] = field(default_factory=list)
    params: dict[str, object] = field(default_factory=dict)

    def add(self, condition: str, **params) -> None:
        self.sql.append(condition)
        self.params.update(params)

    def contains(self, column: str, terms: list[str]) -> None:
        """Each term in the column, case-insensitively, as Django's `icontains` compares
        (the trigram index on UPPER(column) serves it)."""
        for index, term in enumerate(terms):
            name = f"term_{index}"
            self.add(
                f"UPPER({column}::text) LIKE UPPER(%({name})s)",
                **{name: f"%{connection.ops.prep_for_like_query(term)}%"},
            )

    @property
    def where(self) -> str:
        return " AND ".join(self.sql) or "TRUE"


def order_by(ordering: list[str], columns: dict[str, str], tie_break: str) -> str:
    """ORDER BY for DRF ordering terms ("title", "-start_date"), always ending on a unique
    column so that pages neither repeat nor skip a row."""
    terms = []
    for term in ordering:
        descending = term.startswith("-")
        column = columns[term.lstrip("-")]
        terms.append(f"{column} DESC" if descending else column)
    if tie_break not in terms:
        terms.append(tie_break)
    return ", ".join(terms)


class _PreparedCursor(psycopg.Cursor):
    """A psycopg cursor binding its parameters on the server and preparing its statement."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        super().execute(query, params, prepare=True, binary=binary)
        if connection.queries_logged:
            # Django's query log (DEBUG, tests) reads the statement from `_query`, which psycopg
            # sets only for a statement it does not prepare (and never reads itself).
            self._query = SimpleNamespace(query=connection.ops.compose_sql(query, params).encode())
        return self


def prepared_cursor():
    """A cursor of Django's connection (its health check, error translation, query logging
    and execute wrappers) whose statements are prepared on the connection.

    Why: planning a page's statement costs PostgreSQL twice what running it does (its
    subqueries and joins); a statement prepared once per connection is planned once, then
    with a generic plan where PostgreSQL judges that as good (docs/performance.md). Django
    turns preparing off by default (`prepare_threshold` None, for transaction poolers); the
    settings turn it on unless DJANGO_DB_PREPARED_STATEMENTS=false (docs/deploy.md), and only
    this cursor asks for it — Django's own bind on the client and never prepare. One statement
    per filter, search, ordering and page combination in use; psycopg keeps the last
    `prepared_max` (100) per connection and forgets them all at a rollback."""
    cursor = connection.cursor()
    cursor.cursor.close()
    cursor.cursor = _PreparedCursor(connection.connection)
    return cursor


def run(statement: str, params: dict[str, object]) -> tuple[int, str]:
    """(count, JSON text of the page's items) of a statement built by `page_statement`."""
    with prepared_cursor() as cursor:
        cursor.execute(statement, {"tz": timezone.get_current_timezone_name(), **params})
        count, items = cursor.fetchone()
    return count, items


PROJECT_ORDER_COLUMNS = {
    "title": "t.title",
    "start_date": "t.start_date",
    "end_date": "t.end_date",
    "status": "t.status",
    "created_at": "t.created_at",
    "updated_at": "t.updated_at",
    "pk": "t.id",
}

# One project as ProjectSerializer shows it, from the page's row (`t`) and its children,
# each read once for the whole page (a grouped query per kind of child: a subquery per row
# cost PostgreSQL a scan per row).
PROJECT_ITEM = f"""json_build_object(
    'id', t.public_id,
    'partner', partner.public_id,
    'priority', priority.code,
    'title', t.title,
    'description', t.description,
    'start_date', t.start_date,
    'end_date', t.end_date,
    'status', t.status,
    'intended_results', COALESCE(results.codes, '[]'::json),
    'budget', COALESCE(budget.lines, '[]'::json),
    'total_budget', {money("COALESCE(budget.total, 0)")},
    'disbursed', {money("COALESCE(paid.total, 0)")},
    'created_at', {iso_datetime("t.created_at")},
    'updated_at', {iso_datetime("t.updated_at")}
)"""
PROJECT_CHILDREN = f"""
    results AS (
        SELECT served.project_id, json_agg(ir.code ORDER BY ir.code) AS codes
        FROM grants_project_intended_results served
        JOIN priorities_intendedresult ir ON ir.id = served.intendedresult_id
        WHERE served.project_id IN (SELECT id FROM page) GROUP BY served.project_id
    ),
    budget AS (
        SELECT b.project_id, SUM(b.amount) AS total,
               json_agg(json_build_object('year', b.year, 'amount', {money("b.amount")})
                        ORDER BY b.year) AS lines
        FROM grants_budgetline b
        WHERE b.project_id IN (SELECT id FROM page) GROUP BY b.project_id
    ),
    paid AS (
        SELECT d.project_id, SUM(d.amount) AS total FROM grants_disbursement d
        WHERE d.project_id IN (SELECT id FROM page) GROUP BY d.project_id
    )"""
PROJECT_JOINS = """
    JOIN grants_partner partner ON partner.id = t.partner_id
    JOIN priorities_priority priority ON priority.id = t.priority_id
    LEFT JOIN results ON results.project_id = t.id
    LEFT JOIN budget ON budget.project_id = t.id
    LEFT JOIN paid ON paid.project_id = t.id"""


def page_statement(
    table: str,
    item: str,
    conditions: Conditions,
    order: str,
    *,
    limit: int,
    offset: int,
    children="",
    joins="",
) -> str:
    """The count of the rows the conditions select and the JSON array of one page of them
    (`limit` rows from `offset`) in the given order, in one statement. `children`: more
    named subqueries, which may read the page's rows (`page`); `joins` bring them and
    anything else the item shows to the row (`t`).

    The limit and the offset are written into the text, not passed as parameters: the
    statement is prepared (`run`), and PostgreSQL's plan for it, made once, is only as good
    as what it knows when making it — with an unknown offset it plans for a large share of
    the table, and the page costs twice what it does planned for its fifty rows. They are
    integers the paginator checked (ApiPagination), so a new page number is at worst one
    more statement prepared."""
    children = f",{children}" if children else ""
    return f"""
        WITH page AS (
            SELECT t.* FROM {table} t WHERE {conditions.where}
            ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}
        ){children}
        SELECT
            (SELECT COUNT(*) FROM {table} t WHERE {conditions.where}),
            (SELECT COALESCE(json_agg({item} ORDER BY {order}), '[]'::json)::text
             FROM page t {joins})
    """


def project_conditions(post_id: int, filters: dict, terms: list[str]) -> Conditions:
    """The project list's filters (ProjectFilter's validated values) and search (`title`)."""
    conditions = Conditions()
    conditions.add("t.post_id = %(post)s", post=post_id)
    if filters.get("status"):
        conditions.add("t.status = %(status)s", status=filters["status"])
    if filters.get("priority"):
        conditions.add(
            "t.priority_id IN (SELECT id FROM priorities_priority WHERE code = %(priority)s)",
            priority=filters["priority"],
        )
    if filters.get("partner") is not None:
        conditions.add(
            "t.partner_id IN (SELECT id FROM grants_partner WHERE public_id = %(partner)s)",
            partner=filters["partner"],
        )
    if filters.get("year") is not None:
        conditions.add(
            "EXISTS (SELECT 1 FROM grants_budgetline b "
            "WHERE b.project_id = t.id AND b.year = %(year)s)",
            year=filters["year"],
        )
    conditions.contains("t.title", terms)
    return conditions


# One plan as PlanSerializer shows it: its chosen priorities with their aims in order, its
# steps with who took them (a user of the post by name, else "ministry", R11).
PLAN_ITEM = f"""json_build_object(
    'id', t.public_id,
    'year', (SELECT y.year FROM grants_fundyear y WHERE y.id = t.fund_year_id),
    'status', t.status,
    'version', t.version,
    'editable', t.status = ANY(%(editable)s),
    'narrative', t.narrative,
    'priorities', COALESCE((
        SELECT json_agg(json_build_object(
            'priority', priority.code,
            'amount', {money("chosen.amount")},
            'intended_results', COALESCE((
                SELECT json_agg(ir.code ORDER BY ir.position, aim.id)
                FROM grants_planaim aim
                JOIN priorities_intendedresult ir ON ir.id = aim.intended_result_id
                WHERE aim.plan_priority_id = chosen.id), '[]'::json)
        ) ORDER BY chosen.slot, chosen.id)
        FROM grants_planpriority chosen
        JOIN priorities_priority priority ON priority.id = chosen.priority_id
        WHERE chosen.plan_id = t.id), '[]'::json),
    'transitions', COALESCE((
        SELECT json_agg(json_build_object(
            'from_status', step.from_status,
            'to_status', step.to_status,
            'version', step.version,
            'at', {iso_datetime("step.at")},
            'comment', step.comment,
            'by', CASE
                WHEN step.actor_id IS NULL THEN NULL
                WHEN EXISTS (
                    SELECT 1 FROM countries_postmembership member
                    WHERE member.post_id = t.post_id AND member.user_id = step.actor_id
                ) THEN (SELECT u.username FROM auth_user u WHERE u.id = step.actor_id)
                ELSE 'ministry' END
        ) ORDER BY step.at, step.id)
        FROM grants_plantransition step WHERE step.plan_id = t.id), '[]'::json),
    'created_at', {iso_datetime("t.created_at")},
    'updated_at', {iso_datetime("t.updated_at")}
)"""


def plan_conditions(post_id: int, filters: dict) -> Conditions:
    """The plan list's filters (PlanFilter's validated values)."""
    conditions = Conditions()
    conditions.add("t.post_id = %(post)s", post=post_id)
    if filters.get("status"):
        conditions.add("t.status = %(status)s", status=filters["status"])
    if filters.get("year") is not None:
        conditions.add(
            "t.fund_year_id IN (SELECT id FROM grants_fundyear WHERE year = %(year)s)",
            year=filters["year"],
        )
    return conditions
