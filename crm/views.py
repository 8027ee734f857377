"""Public pages of the crm: the one-click unsubscribe link (no login, no cookies, any method that
mail clients and people use)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from crm.services.agency import profile
from crm.services.unsubscribe import InvalidLink, unsubscribe


@csrf_exempt  # RFC 8058: the mail provider POSTs "List-Unsubscribe=One-Click" with no cookie or token
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request: HttpRequest, token: str) -> HttpResponse:
    """Suppresses at once on GET (a person's click) and POST (the client's one-click); idempotent."""
    try:
        unsubscribe(token)
    except InvalidLink:
        return render(request, "crm/unsubscribe.html", {"ok": False}, status=400)
    return render(request, "crm/unsubscribe.html", {"ok": True, "agency": profile().name})
