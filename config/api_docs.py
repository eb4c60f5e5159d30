"""The API's documentation pages (Swagger UI, Redoc): like the schema, open to a signed-in
user or an API token (R11: nothing but the health check without one). A browser without either
is sent to the login page instead of getting a JSON refusal."""

import functools

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import exceptions


class _SignInFirst:
    def handle_exception(self, exc):
        refused = isinstance(exc, (exceptions.NotAuthenticated, exceptions.PermissionDenied))
        signed_in = self.request.user.is_authenticated or self.request.headers.get("Authorization")
        if refused and not signed_in:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


class SwaggerDocs(_SignInFirst, SpectacularSwaggerSplitView):
    pass


class RedocDocs(_SignInFirst, SpectacularRedocView):
    pass


@functools.cache
def _redoc_bundle() -> bytes:
    bundle = finders.find("drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js")
    with open(bundle, "rb") as source:
        code = source.read()
    # The one address outside the app in Redoc's bundle: its maker's logo in the sidebar.
    return code.replace(REDOC_LOGO.encode(), static("fund/api-docs-logo.svg").encode())


REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@login_required
@require_GET
def redoc_bundle(request):
    """Redoc's script (drf-spectacular-sidecar's copy) with its logo taken from the app's own
    static files: the docs fetch nothing from elsewhere."""
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    patch_cache_control(response, private=True, max_age=24 * 3600)
    return response
