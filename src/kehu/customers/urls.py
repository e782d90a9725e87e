from django.urls import path

from kehu.customers import transfer_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list, name="list"),
    path("customers/new/", views.customer_create, name="create"),
    path("customers/<int:pk>/", views.customer_card, name="card"),
    path("customers/<int:pk>/edit/", views.customer_edit, name="edit"),
    path("customers/<int:pk>/history/", views.customer_history, name="history"),
    path("customers/<int:pk>/notes/", views.note_add, name="note_add"),
    path("customers/<int:pk>/contacts/new/", views.contact_edit, name="contact_create"),
    path("customers/<int:pk>/contacts/<int:contact_pk>/", views.contact_edit, name="contact_edit"),
    path("customers/<int:pk>/merge/", views.customer_merge, name="merge"),
    path("customers/import/", transfer_views.import_upload, name="import"),
    path("customers/import/<int:job_id>/", transfer_views.import_job, name="import_job"),
    path("customers/export/", transfer_views.export, name="export"),
]
