import pytest
from django.urls import reverse

from kehu.users.models import User


def test_admin_creates_a_user_with_a_role(admin_client):
    response = admin_client.post(reverse("users"), {
        "username": "wang", "first_name": "王", "last_name": "", "email": "",
        "role": "key_account_manager", "password": "a-long-enough-passphrase",
    })
    assert response.status_code == 302
    user = User.objects.get(username="wang")
    assert user.role == "key_account_manager"
    assert user.check_password("a-long-enough-passphrase")


def test_weak_password_is_refused_and_nothing_created(admin_client):
    response = admin_client.post(reverse("users"), {
        "username": "wang", "role": "agent", "password": "123",
    })
    assert response.status_code == 200
    assert not User.objects.filter(username="wang").exists()


def test_admin_cannot_demote_themselves(admin_client, admin_user):
    response = admin_client.post(reverse("user_edit", args=[admin_user.pk]), {
        "first_name": "", "last_name": "", "email": "", "role": "agent", "is_active": "on",
    })
    assert response.status_code == 200
    admin_user.refresh_from_db()
    assert admin_user.role == "admin"


def test_admin_deactivates_an_agent(admin_client, agent):
    admin_client.post(reverse("user_edit", args=[agent.pk]), {
        "first_name": "", "last_name": "", "email": "", "role": "agent",
    })
    agent.refresh_from_db()
    assert not agent.is_active


@pytest.mark.parametrize("client_fixture", ["agent_client", "supervisor_client", "analyst_client"])
def test_only_admins_manage_users(request, client_fixture):
    client = request.getfixturevalue(client_fixture)
    assert client.get(reverse("users")).status_code == 403
    assert client.post(reverse("users"), {"username": "x", "role": "admin",
                                          "password": "a-long-enough-passphrase"}).status_code == 403
    assert not User.objects.filter(username="x").exists()
