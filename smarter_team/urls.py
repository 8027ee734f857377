from django.contrib import admin
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from crm.views import unsubscribe_view
from integrations.webhooks.api import receive_view
from smarter_team.api import api

admin.site.site_header = "Smarter Team operations"
admin.site.site_title = "Smarter Team"
admin.site.index_title = "Agency console"
# The console is the site: "View site" and the bare address lead to it.
admin.site.site_url = reverse_lazy("admin:index")  # type: ignore[assignment]  # resolved when rendered

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    # Ahead of the ninja API: the webhook endpoint without ninja's machinery (documented there).
    path("api/webhooks/<str:provider>", receive_view),
    path("api/", api.urls),
    # The one-click unsubscribe link of every cold email (public: no login, no cookies).
    path("u/<str:token>/", unsubscribe_view, name="unsubscribe"),
]
