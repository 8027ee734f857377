from django.contrib import admin
from django.urls import path

from smarter_team.api import api

admin.site.site_header = "Smarter Team operations"
admin.site.site_title = "Smarter Team"
admin.site.index_title = "Agency console"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
