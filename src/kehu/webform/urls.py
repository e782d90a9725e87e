from django.urls import path

from kehu.webform import views

app_name = "webform"
urlpatterns = [
    path("help/", views.web_case, name="case"),
    path("help/thanks/", views.web_case_thanks, name="thanks"),
]
