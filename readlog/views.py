"""The inspection's pages (R11): the one-time link, the list, and the end of the access."""

from __future__ import annotations

from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import inspection as inspections
from . import services
from .models import Door, Kind


@never_cache
@require_http_methods(["GET", "POST"])
def inspection_link(request, token: str):
    """GET shows a button; only its POST (with the CSRF token) signs the person in and uses
    the link up. A link previewer in a mail or chat program, or another site, only GETs:
    it neither uses the link nor signs anyone out."""
    if request.method == "GET":
        if not inspections.link_is_open(token):
            return render(request, "readlog/inspection_closed.html", status=410)
        return render(request, "readlog/inspection_open.html")
    if not inspections.link_is_open(token):
        return render(request, "readlog/inspection_closed.html", status=410)
    logout(request)  # whoever was signed in here: the inspection is the person's alone
    if inspections.open_link(request, token) is None:
        return render(request, "readlog/inspection_closed.html", status=410)
    return redirect("inspection")


@never_cache
@require_GET
def inspection_list(request):
    """The fund year's participating posts, watermarked with the person's name and the time,
    with nothing to download; the view is a read of the list."""
    if not inspections.is_inspection_account(request.user):
        raise Http404
    inspection = inspections.of(request.user)
    if inspection is None or not inspection.is_open():
        logout(request)
        return render(request, "readlog/inspection_closed.html", status=410)
    from countries.models import Post

    posts = list(
        Post.objects.filter(
            participations__fund_year=inspection.fund_year, participations__selected=True
        )
        .select_related("host_country")
        .order_by("kind", "name")
    )
    services.note(request, Kind.PARTICIPATION, [post.public_id for post in posts],
                  year=inspection.fund_year.year, door=Door.INSPECTION,
                  purpose=f"inspection {inspection.pk}")  # fmt: skip
    response = render(request, "readlog/inspection.html", {
        "inspection": inspection, "posts": posts, "now": timezone.localtime(),
        "watermarks": range(24),
    })  # fmt: skip
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def inspection_end(request):
    logout(request)
    return render(request, "readlog/inspection_closed.html", {"ended": True})
