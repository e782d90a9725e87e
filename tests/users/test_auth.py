"""Signing in and out, lock-out after failed logins, password change, language, API tokens."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kehu.users.models import ApiToken
from tests.conftest import PASSWORD, bearer

LOGIN = "/accounts/login/"


def login(client: Client, username: str, password: str, **extra):
    return client.post(LOGIN, {"username": username, "password": password}, **extra)


def signed_in(client: Client) -> bool:
    return client.get(reverse("customers:list")).status_code == 200


def test_login_with_the_right_password(agent):
    client = Client()
    response = login(client, "agent", PASSWORD)
    assert response.status_code == 302
    assert response.url == reverse("customers:list")
    assert int(client.session["_auth_user_id"]) == agent.pk
    assert signed_in(client)


def test_login_returns_to_the_page_asked_for(agent):
    client = Client()
    target = reverse("customers:create")
    response = client.get(target)
    assert response.url == f"{LOGIN}?next={target}"
    response = client.post(
        response.url, {"username": "agent", "password": PASSWORD, "next": target}
    )
    assert response.url == target


def test_login_does_not_follow_next_to_another_site(agent):
    response = Client().post(
        LOGIN, {"username": "agent", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == reverse("customers:list")


@pytest.mark.parametrize(
    "username, password",
    [("agent", "wrong"), ("nobody", PASSWORD), ("agent", ""), ("AGENT ", PASSWORD)],
)
def test_login_with_wrong_credentials_is_refused(agent, username, password):
    client = Client()
    response = login(client, username, password)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not signed_in(client)


def test_inactive_user_cannot_log_in(agent):
    agent.is_active = False
    agent.save()
    client = Client()
    login(client, "agent", PASSWORD)
    assert not signed_in(client)


def test_five_failed_logins_lock_out_even_the_right_password(agent, supervisor):
    client = Client()
    for _attempt in range(5):
        login(client, "agent", "wrong")
    response = login(client, "agent", PASSWORD)
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert not signed_in(client)
    # From another address the same account is not locked; another account is not locked.
    other_address = Client(REMOTE_ADDR="10.0.0.9")
    assert login(other_address, "agent", PASSWORD).status_code == 302
    same_address = Client()
    assert login(same_address, "supervisor", PASSWORD).status_code == 302


def test_four_failures_and_a_success_reset_the_count(agent):
    client = Client()
    for _attempt in range(4):
        login(client, "agent", "wrong")
    assert login(client, "agent", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _attempt in range(4):
        login(client, "agent", "wrong")
    assert login(client, "agent", PASSWORD).status_code == 302


def test_logout(agent_client):
    assert signed_in(agent_client)
    response = agent_client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == LOGIN
    assert not signed_in(agent_client)


def test_logout_needs_a_post(agent_client):
    assert agent_client.get(reverse("logout")).status_code == 405
    assert signed_in(agent_client)


def test_password_change(agent):
    client = Client()
    login(client, "agent", PASSWORD)
    new = "another-long-passphrase-2026"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    assert signed_in(client)  # the session that changed it stays signed in
    assert login(Client(), "agent", PASSWORD).status_code == 200
    assert login(Client(), "agent", new).status_code == 302


@pytest.mark.parametrize(
    "old, new1, new2",
    [
        ("wrong", "another-long-passphrase-2026", "another-long-passphrase-2026"),
        (PASSWORD, "another-long-passphrase-2026", "a-different-passphrase-2026"),
        (PASSWORD, "12345678", "12345678"),
        (PASSWORD, "short", "short"),
    ],
)
def test_bad_password_change_is_refused(agent, agent_client, old, new1, new2):
    response = agent_client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new1, "new_password2": new2},
    )
    assert response.status_code == 200
    agent.refresh_from_db()
    assert agent.check_password(PASSWORD)


def test_password_change_requires_login():
    response = Client().get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(LOGIN)


# ---------------------------------------------------------------- language


def _chinese(text: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(text)


@pytest.mark.parametrize("text", ["Customers", "Log out", "New customer"])
def test_the_strings_checked_below_are_translated(text):
    assert _chinese(text) != text


def test_language_switch_changes_the_page(agent_client):
    url = reverse("customers:list")
    response = agent_client.post(reverse("set_language"), {"language": "zh-hans", "next": url})
    assert response.status_code == 302 and response.url == url
    page = agent_client.get(url).content.decode()
    assert '<html lang="zh-hans">' in page
    assert _chinese("Log out") in page and _chinese("New customer") in page
    assert ">Log out<" not in page

    agent_client.post(reverse("set_language"), {"language": "en", "next": url})
    page = agent_client.get(url).content.decode()
    assert '<html lang="en">' in page
    assert ">Log out<" in page and _chinese("Log out") not in page


def test_language_can_be_chosen_before_logging_in():
    client = Client()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": LOGIN})
    page = client.get(LOGIN).content.decode()
    assert '<html lang="zh-hans">' in page
    assert _chinese("Log in") in page


def test_unknown_language_is_ignored(agent_client):
    agent_client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert '<html lang="en">' in agent_client.get("/").content.decode()


def test_browser_language_is_the_default(agent):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    client.force_login(agent)
    assert '<html lang="zh-hans">' in client.get("/").content.decode()


# ---------------------------------------------------------------- API tokens


def test_tokens_are_shown_once_and_can_be_revoked(agent, agent_client):
    response = agent_client.post(reverse("api_tokens"), {"name": "CTI"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=agent)
    page = response.content.decode()
    raw = page[page.index("kehu_") :].split("<")[0].split('"')[0].strip()
    assert ApiToken.digest_of(raw) == token.digest
    assert raw not in agent_client.get(reverse("api_tokens")).content.decode()
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    agent_client.post(reverse("api_tokens"), {"revoke": token.pk})
    assert not ApiToken.objects.exists()
    assert Client().get("/api/customers", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_a_token_needs_a_name(agent_client):
    agent_client.post(reverse("api_tokens"), {"name": "  "})
    assert not ApiToken.objects.exists()


def test_nobody_revokes_another_users_token(agent, supervisor_client):
    bearer(agent)
    token = ApiToken.objects.get()
    response = supervisor_client.post(reverse("api_tokens"), {"revoke": token.pk})
    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()
