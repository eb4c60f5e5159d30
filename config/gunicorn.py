"""gunicorn settings for the fund: `gunicorn -c config/gunicorn.py config.wsgi`.

R11: the access log names the path, never the query string or the referrer. A post that
searches its own partners (`/api/v1/partners/?search=<name>`) or filters its projects would
otherwise write a partner's name into a log file that operators, log shippers and backups
read; the referrer would carry the same from the admin's pages.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Access lines go to standard output unless GUNICORN_ACCESS_LOG names a file ("-" is stdout).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
# Remote address, time, method, path (%(U)s: without the query), protocol, status, size, ms.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
