from django.urls import path

from kehu.promises import views

app_name = "promises"
urlpatterns = [
    path("my-day/", views.my_day, name="my_day"),
    path("customers/<int:customer_pk>/promises/", views.commitment_create, name="promise_create"),
    path("promises/<int:pk>/keep/", views.commitment_keep, name="keep"),
    path("promises/<int:pk>/break/", views.commitment_break, name="break"),
    path("promises/<int:pk>/renegotiate/", views.commitment_renegotiate, name="renegotiate"),
    path("promises/report/", views.promise_report, name="report"),
    path(
        "customers/<int:customer_pk>/follow-ups/new/",
        views.follow_up_create,
        name="follow_up_create",
    ),
    path("follow-ups/<int:pk>/done/", views.follow_up_complete, name="complete"),
    path("follow-ups/<int:pk>/reschedule/", views.follow_up_reschedule, name="reschedule"),
    path("visits/<int:pk>/", views.visit_detail, name="visit"),
    path("service/follow-up-policies/", views.policy_list, name="policies"),
    path("calendar/", views.calendar_feed, name="calendar"),
    path("calendar/<str:token>.ics", views.feed, name="feed"),
]
