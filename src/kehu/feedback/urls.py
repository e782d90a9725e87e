from django.urls import path

from kehu.feedback import public_views, views

app_name = "feedback"
urlpatterns = [
    path("s/<str:token>", public_views.answer, name="answer"),
    path("feedback/", views.results, name="results"),
    path("feedback/surveys/", views.survey_list, name="surveys"),
    path("feedback/surveys/<int:pk>/", views.survey_detail, name="survey"),
    path("feedback/servqual/", views.servqual_items, name="servqual_items"),
    path(
        "feedback/customers/<int:customer_pk>/invitations/",
        views.customer_invitations,
        name="customer_invitations",
    ),
    path("feedback/invitations/<int:pk>/resend", views.invitation_resend, name="resend"),
    path("feedback/invitations/<int:pk>/revoke", views.invitation_revoke, name="revoke"),
]
