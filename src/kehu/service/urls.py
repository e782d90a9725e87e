from django.urls import path

from kehu.service import recovery_views, reports_views, views

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
    path("service/policies/", views.sla_policy_list, name="policies"),
    path("service/policies/<int:pk>/", views.sla_policy_edit, name="policy"),
    path("service/categories/", views.complaint_category_list, name="categories"),
    path("service/categories/<int:pk>/", views.complaint_category_edit, name="category"),
    path("service/reports/", reports_views.sla_report, name="report_sla"),
    path("service/reports/iceberg/", reports_views.iceberg_report, name="report_iceberg"),
    path("service/reports/complainants/", reports_views.complainants, name="complainants"),
    path("service/settings/", reports_views.service_settings, name="settings"),
    path("cases/", views.case_list, name="cases"),
    path("cases/new/", views.case_create, name="case_create"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/notes/", views.case_note, name="case_note"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("cases/<int:pk>/remedies/", recovery_views.remedy_request, name="remedy_request"),
    path("cases/<int:pk>/worksheet/", recovery_views.case_worksheet, name="worksheet"),
    path("cases/<int:pk>/root-cause/", recovery_views.case_root_cause, name="case_root_cause"),
    path("cases/<int:pk>/attachments/", recovery_views.attachment_upload, name="attachment_upload"),
    path(
        "cases/<int:pk>/attachments/<int:attachment_pk>/",
        recovery_views.attachment_download,
        name="attachment",
    ),
    path("cases/approvals/", recovery_views.approvals, name="approvals"),
    path("cases/remedies/<int:pk>/decide/", recovery_views.remedy_decide, name="remedy_decide"),
    path("cases/root-causes/", recovery_views.root_cause_ranking, name="root_cause_ranking"),
    path("service/authority/", recovery_views.authority_limits, name="authority"),
    path("service/root-causes/", views.root_cause_list, name="root_causes"),
    path("service/root-causes/<int:pk>/", views.root_cause_edit, name="root_cause"),
    path("improvements/", recovery_views.improvement_list, name="improvements"),
    path("improvements/new/", recovery_views.improvement_create, name="improvement_create"),
    path("improvements/<int:pk>/", recovery_views.improvement_detail, name="improvement"),
    path("improvements/<int:pk>/link/", recovery_views.improvement_link, name="improvement_link"),
]
