"""gunicorn settings for the fund: `gunicorn -c config/gunicorn.py config.wsgi` (docs/deploy.md).

Each value can be set from the environment (GUNICORN_*); the defaults suit one container with
two cores behind a TLS proxy.

R11: the access log names the path, never the query string or the referrer. A post that
searches its own partners (`/api/v1/partners/?search=<name>`) or filters its projects would
otherwise write a partner's name into a log file that operators, log shippers and backups
read; the referrer would carry the same from the admin's pages.
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Synchronous workers, each with its own database connection (or pool): two per core.
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 1)
# A request still running after this long is killed (the worker is replaced); no page or API
# call of the fund needs more: exports and reports run in the Celery workers.
timeout = _int("GUNICORN_TIMEOUT", 60)
# On a deploy or a scale-down (SIGTERM), running requests get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# A worker is replaced after about this many requests, so that a slow leak cannot grow; the
# jitter keeps the workers from restarting all at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Each worker loads the app itself: no connection or thread is shared across a fork.
preload_app = False
# The heartbeat file on a memory file system where there is one (a container's /dev/shm),
# so that a slow disk does not make the arbiter think a worker hung.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# Which proxies may say the request came over HTTPS (X-Forwarded-Proto): the proxy's address.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Oversized request lines and headers are refused before Django sees them.
limit_request_line = 8190
limit_request_fields = 100

# Access lines go to standard output unless GUNICORN_ACCESS_LOG names a file ("-" is stdout);
# gunicorn's own messages to standard error.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Remote address, time, method, path (%(U)s: without the query), protocol, status, size, ms and
# the request id the app answered with (X-Request-ID, the same as on the app's log lines).
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
)
