from django.urls import path

from kehu.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("webhooks/", views.endpoint_list, name="endpoints"),
    path("webhooks/<int:pk>/", views.endpoint_edit, name="endpoint"),
    path("webhooks/<int:pk>/rotate/", views.endpoint_rotate, name="rotate"),
    path("webhooks/<int:pk>/test/", views.endpoint_test, name="test"),
    path("webhooks/deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("webhooks/deliveries/<int:pk>/retry/", views.delivery_retry, name="retry"),
]
