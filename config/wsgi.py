import os

from django.core.wsgi import get_wsgi_application

from config.checks import refuse_to_start_if_unsafe

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# With DEBUG off, a web process without a broker, mail server, shared cache or report
# recipients does not start (config.checks).
refuse_to_start_if_unsafe()
