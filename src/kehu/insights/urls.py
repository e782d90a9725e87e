from django.urls import path

from kehu.insights import views

app_name = "insights"

urlpatterns = [
    path("value/", views.value_page, name="value"),
]
