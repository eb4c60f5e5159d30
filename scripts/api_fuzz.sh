#!/bin/sh
# Fuzz the whole embassy API with schemathesis, as the demo post's editor: generated valid
# and invalid requests against a real server (gunicorn) on a throwaway SQLite demo world.
# Fails on any 5xx or any response that does not conform to the OpenAPI schema.
# Usage: sh scripts/api_fuzz.sh [extra schemathesis options]    (after scripts/test.sh)
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d)
# A free port unless one is given: another server on a fixed port would answer instead.
port=${API_FUZZ_PORT:-$(.venv/bin/python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
export DATABASE_URL="sqlite:///$work/fuzz.sqlite3" DJANGO_DEBUG=true
export API_USER_THROTTLE_RATE=1000000/minute DJANGO_LOG_LEVEL=WARNING
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py seed_demo > /dev/null
token=$(.venv/bin/python manage.py create_post_user fuzz-editor --post DEMO-B01 --role editor | tail -n 1)
# Real ids of the demo post's objects, so that requests reach the rules, not only a 404.
.venv/bin/python manage.py shell -v 0 -c '
from grants.models import Disbursement, Indicator
indicator = Indicator.objects.filter(project__post__code="DEMO-B01").select_related("project").first()
plan = indicator.project.post.annual_plans.order_by("-fund_year__year").first()
partner = indicator.project.partner
disbursement = Disbursement.objects.filter(project__post__code="DEMO-B01").first()
report = indicator.project.post.annual_reports.order_by("-fund_year__year").first()
fixed = {
    "/api/v1/annual-reports/{id}/": {"path.id": report.public_id},
    "/api/v1/annual-reports/{id}/submit/": {"path.id": report.public_id},
    "/api/v1/plans/{id}/": {"path.id": plan.public_id},
    "/api/v1/plans/{id}/submit/": {"path.id": plan.public_id},
    "/api/v1/plans/{id}/priorities/": {"path.id": plan.public_id},
    "/api/v1/partners/{id}/": {"path.id": partner.public_id},
    "/api/v1/projects/{id}/": {"path.id": indicator.project.public_id},
    "/api/v1/projects/{project_id}/indicators/": {"path.project_id": indicator.project.public_id},
    "/api/v1/projects/{project_id}/indicators/{id}/": {
        "path.project_id": indicator.project.public_id, "path.id": indicator.public_id},
    "/api/v1/projects/{project_id}/indicators/{indicator_id}/values/": {
        "path.project_id": indicator.project.public_id, "path.indicator_id": indicator.public_id},
    "/api/v1/projects/{project_id}/indicators/{indicator_id}/values/{year}/": {
        "path.project_id": indicator.project.public_id,
        "path.indicator_id": indicator.public_id, "path.year": 2026},
    "/api/v1/disbursements/{id}/": {"path.id": disbursement.public_id},
}
for path, parameters in fixed.items():
    print("[[operations]]")
    print(f"include-path = \"{path}\"")
    print("parameters = {" + ", ".join(
        f"\"{k}\" = " + (str(v) if isinstance(v, int) else f"\"{v}\"")
        for k, v in parameters.items()) + "}")
' > "$work/schemathesis.toml"
# No request-line limit here: gunicorn answers an over-long URL (the fuzzer makes some of
# 5 KB) with its own HTML 400 before the API sees it; that limit is the front server's
# business, not the API's contract.
.venv/bin/gunicorn config.wsgi:application -b "127.0.0.1:$port" -w 2 --log-level warning \
  --limit-request-line 0 &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$port/health/" > /dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS -H "Authorization: Token $token" -H "Accept: application/json" \
  "http://127.0.0.1:$port/api/schema/?format=json" -o "$work/schema.json"
.venv/bin/schemathesis --config-file "$work/schemathesis.toml" run "$work/schema.json" --url "http://127.0.0.1:$port" \
  -H "Authorization: Token $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,ignored_auth,unsupported_method \
  --phases examples,coverage,fuzzing \
  --max-examples "${API_FUZZ_EXAMPLES:-25}" --workers 1 \
  --suppress-health-check all \
  "$@"
