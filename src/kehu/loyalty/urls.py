from django.urls import path

from kehu.loyalty import admin_views, touch_views, views

app_name = "loyalty"
urlpatterns = [
    path("loyalty/members/<int:pk>/", views.member_detail, name="member"),
    path("loyalty/members/<int:pk>/redeem/", views.member_redeem, name="redeem"),
    path("loyalty/members/<int:pk>/adjust/", views.member_adjust, name="adjust"),
    path("customers/<int:customer_pk>/enrol/", views.member_enrol, name="enrol"),
    path("customers/<int:customer_pk>/offers/", views.customer_offers, name="customer_offers"),
    path("loyalty/offers/<int:pk>/use/<int:customer_pk>/", views.offer_use, name="offer_use"),
    path("loyalty/report/", views.loyalty_report, name="report"),
]

urlpatterns += [
    path("loyalty/notices/", touch_views.notice_list, name="notices"),
    path("loyalty/members/<int:pk>/notices/", touch_views.member_notices,
         name="member_notices"),
    path("customers/<int:customer_pk>/suggestions/", touch_views.customer_suggestions,
         name="customer_suggestions"),
]

urlpatterns += [
    path("loyalty/manage/", admin_views.programme_manage, name="manage"),
    path("loyalty/manage/settings/", admin_views.programme_edit, name="programme_edit"),
    path("loyalty/manage/tiers/new/", admin_views.thing_edit, {"thing": "tier"},
         name="tier_new"),
    path("loyalty/manage/tiers/<int:pk>/", admin_views.thing_edit, {"thing": "tier"},
         name="tier_edit"),
    path("loyalty/manage/rewards/new/", admin_views.thing_edit, {"thing": "reward"},
         name="reward_new"),
    path("loyalty/manage/rewards/<int:pk>/", admin_views.thing_edit, {"thing": "reward"},
         name="reward_edit"),
    path("loyalty/manage/offers/new/", admin_views.thing_edit, {"thing": "offer"},
         name="offer_new"),
    path("loyalty/manage/offers/<int:pk>/", admin_views.thing_edit, {"thing": "offer"},
         name="offer_edit"),
    path("loyalty/import/", admin_views.transactions_import, name="import"),
]
