"""Every response to a signed-in user is read for confidential data before it leaves (R11):
what it shows is recorded in the read log in one insert; if that cannot be written, the
response is not sent (503) — nothing confidential leaves without its record."""

from __future__ import annotations

import logging

from django.http import HttpResponse

from . import services

log = logging.getLogger(__name__)


class ReadLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return response
        try:
            services.detected(request, response)
            services.flush(request)
        except Exception:
            log.exception("read log: not recorded; the response is withheld")
            return HttpResponse(status=503)
        return response


class InspectionGuard:
    """An inspection's account opens its list and nothing else (R11): every other address
    answers 404, as if it did not exist. (A closed inspection is refused by its list page,
    which signs the person out; a revoked one's account is switched off.)"""

    ALLOWED = ("/inzage/", "/static/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .inspection import is_inspection_account

        if is_inspection_account(getattr(request, "user", None)) and not request.path.startswith(
            self.ALLOWED
        ):
            from django.http import Http404
            from django.views.defaults import page_not_found

            return page_not_found(request, Http404())
        return self.get_response(request)
