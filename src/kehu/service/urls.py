from django.urls import path

from kehu.service import views

app_name = "service"
urlpatterns = [
    path("service/calendars/", views.calendar_list, name="calendars"),
    path("service/calendars/<int:pk>/", views.calendar_edit, name="calendar"),
    path("service/calendars/<int:pk>/days/", views.calendar_day_add, name="day_add"),
    path(
        "service/calendars/<int:pk>/days/<int:day_pk>/delete/",
        views.calendar_day_remove,
        name="day_remove",
    ),
]
