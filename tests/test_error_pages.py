"""The fund's own 404 and 500 pages, in the reader's language (issue 20: no English "Not Found"
in the Dutch admin)."""

import pytest
from django.test import override_settings
from django.urls import path


def broken_view(request):
    raise RuntimeError("a deliberate error for the 500 page")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "title"), [("nl", "Pagina niet gevonden"), ("en", "Page not found")]
)
def test_an_unknown_address_answers_the_funds_404_page_in_the_readers_language(
    client, admin_client, language, title
):
    for each, address in ((client, "/bestaat-niet/"), (admin_client, "/admin/bestaat-niet/")):
        response = each.get(address, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 404, address
        page = response.content.decode()
        assert title in page
        assert "Not Found" not in page
        assert f'lang="{language}"' in page


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("language", "title"), [("nl", "Er ging iets mis"), ("en", "Something went wrong")]
)
def test_an_error_answers_the_funds_500_page_in_the_readers_language(client, language, title):
    client.raise_request_exception = False
    response = client.get("/broken/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 500
    page = response.content.decode()
    assert title in page
    assert "Server Error" not in page
