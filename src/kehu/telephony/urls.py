from django.urls import path

from kehu.telephony import views

app_name = "telephony"
urlpatterns = [
    path("calls/", views.call_list, name="calls"),
    path("calls/callbacks/", views.callbacks, name="callbacks"),
    path("calls/probe/", views.call_probe, name="probe"),
    path("calls/outbound/", views.outbound_log, name="outbound"),
    path("calls/<int:call_pk>/log/", views.call_log_contact, name="log"),
    path("calls/<int:call_pk>/identify/", views.call_identify, name="identify"),
    path("calls/<int:call_pk>/rematch/", views.call_rematch, name="rematch"),
    path("calls/<int:call_pk>/callback-done/", views.callback_done, name="callback_done"),
    path("calls/alerts/<int:alert_id>/dismiss/", views.alert_dismiss, name="dismiss"),
    path("telephony/", views.settings_page, name="settings"),
]
