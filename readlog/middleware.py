"""The read log's one middleware (R11), in two halves around the view:

- before it, an inspection's account opens its list and nothing else: every other address
  answers 404, as if it did not exist (a closed inspection is refused by its list page, which
  signs the person out; a revoked one's account is switched off);
- after it, every response to a signed-in user is read for confidential data before it
  leaves: what it shows is recorded in the read log in one insert; if that cannot be written,
  the response is not sent (503) — nothing confidential leaves without its record.

One middleware, not two: each is a Python frame under every view, and on CPython before the
fix of gh-142183 (3.13.x, 3.14) one frame more or less can move a page's template rendering
onto a boundary of the interpreter's frame stack, where it maps and unmaps memory thousands
of times a request (docs/performance.md, "The read log's cost")."""

from __future__ import annotations

import logging

from django.http import Http404, HttpResponse

from . import services
from .inspection import is_inspection_account

log = logging.getLogger(__name__)

INSPECTION_ALLOWED = ("/inzage/", "/static/")


class ReadLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if is_inspection_account(user) and not request.path.startswith(INSPECTION_ALLOWED):
            from django.views.defaults import page_not_found

            return page_not_found(request, Http404())
        response = self.get_response(request)
        # Read again: a token's user is set by the API view, after the guard looked.
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
