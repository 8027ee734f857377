"""The one NinjaAPI. Each app adds its router here; webhooks live under /api/webhooks/."""

from django.http import HttpRequest
from ninja import NinjaAPI

api = NinjaAPI(title="Smarter Team API", version="1.0.0", urls_namespace="api")


@api.get("/health", auth=None, tags=["system"])
def health(request: HttpRequest) -> dict[str, str]:
    """Liveness probe for load balancers: answers without touching the database."""
    return {"status": "ok"}
