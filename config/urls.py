import logging

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import JsonResponse
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from config.api_docs import RedocDocs, SwaggerDocs, redoc_bundle
from grants.admin.dashboard import dashboard_view

logger = logging.getLogger(__name__)


@require_GET
def health(request):
    """The only unauthenticated endpoint (R11): says whether the app reaches its database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return JsonResponse({"status": "ok"})
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _broker() -> None:
    from config.celery import app

    with app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def _cache() -> None:
    from django.core.cache import cache

    cache.set("fund:ready", "1", timeout=10)
    if cache.get("fund:ready") != "1":
        raise RuntimeError("the cache does not keep what it is given")


def _storage() -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    name = default_storage.save("ready/probe.txt", ContentFile(b"ready"))
    default_storage.delete(name)


READINESS = {"database": _database, "broker": _broker, "cache": _cache, "storage": _storage}


@require_GET
def ready(request):
    """Readiness for a load balancer or orchestrator (no login, like /health/; R11: it tells
    only which service is unreachable, never why): the database, the broker, the shared cache
    and the file storage each answer."""
    checks = {}
    for name, probe in READINESS.items():
        try:
            probe()
            checks[name] = "ok"
        except Exception:
            logger.warning("readiness: %s unavailable", name, exc_info=True)
            checks[name] = "unavailable"
    ok = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status=200 if ok else 503)  # fmt: skip


admin.site.site_header = _("Mensenrechtenfonds — beheer")
admin.site.site_title = _("Mensenrechtenfonds")
admin.site.index_title = _("Decentraal Mensenrechtenfonds")
# The lists' money columns need the width (1400 px screens); the index page lists every screen.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    # The ministry's start page (the admin asks for a login first); never a 404.
    path("", RedirectView.as_view(pattern_name="fund-dashboard", permanent=False), name="home"),
    path("health/", health, name="health"),
    path("health/ready/", ready, name="ready"),
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="fund-dashboard"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/v1/", include("grants.api.urls")),
    # Vertrouwelijke inzage (R11): a one-time link, then one fund year's list.
    path("inzage/", include("readlog.urls")),
    # The schema and docs need a login too (R11): a token or the admin session.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "api/docs/",
        # The split view serves Swagger UI's start-up script as a file, not inline: the
        # Content-Security-Policy allows no inline script.
        SwaggerDocs.as_view(url_name="schema"),
        name="api-docs",
    ),
    path("api/redoc/bundles/redoc.standalone.js", redoc_bundle, name="api-redoc-bundle"),
    path(
        "api/redoc/",
        RedocDocs.as_view(url_name="schema"),
        name="api-redoc",
    ),
]
