"""Logs: an expected refusal (403, 404) is one line without a traceback; an error (500) keeps
its traceback (issue 20)."""

import logging

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import override_settings
from django.urls import path


def forbidden(request):
    raise PermissionDenied


def missing(request):
    raise Http404


def broken(request):
    raise RuntimeError("deliberate")


urlpatterns = [path("forbidden/", forbidden), path("missing/", missing), path("broken/", broken)]


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(("address", "status"), [("/forbidden/", 403), ("/missing/", 404)])
def test_an_expected_refusal_is_one_log_line_without_a_traceback(client, caplog, address, status):
    with caplog.at_level(logging.INFO):
        response = client.get(address)
    assert response.status_code == status
    lines = request_lines(caplog)
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert lines[0].exc_info is None
    assert "Traceback" not in caplog.text


@override_settings(ROOT_URLCONF=__name__)
def test_an_error_keeps_its_traceback(client, caplog):
    client.raise_request_exception = False
    with caplog.at_level(logging.INFO):
        response = client.get("/broken/")
    assert response.status_code == 500
    lines = request_lines(caplog)
    assert len(lines) == 1
    assert lines[0].exc_info is not None
