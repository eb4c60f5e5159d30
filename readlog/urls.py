from django.urls import path

from . import views

urlpatterns = [
    path("", views.inspection_list, name="inspection"),
    path("einde/", views.inspection_end, name="inspection-end"),
    path("<str:token>/", views.inspection_link, name="inspection-link"),
]
