"""Signing in: Argon2 hashes, and a lock after five wrong passwords."""

from django.test import Client

from epigrid.accounts.models import User


def test_passwords_are_hashed_with_argon2(persona):
    user = persona("cdc", password="a long passphrase")
    assert User.objects.get(pk=user.pk).password.startswith("argon2")


def test_it_locks_an_account_after_five_wrong_passwords(persona):
    persona("grid_worker", username="worker-lock", password="the right passphrase")
    for _ in range(5):
        response = Client(REMOTE_ADDR="10.0.0.1").post(
            "/accounts/login/", {"username": "worker-lock", "password": "wrong"}
        )
        assert response.status_code in (200, 429)
    locked = Client(REMOTE_ADDR="10.0.0.2").post(
        "/accounts/login/", {"username": "worker-lock", "password": "the right passphrase"}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session


def test_a_correct_password_signs_in(persona):
    persona("grid_worker", username="worker-ok", password="the right passphrase")
    client = Client()
    response = client.post("/accounts/login/", {"username": "worker-ok", "password": "the right passphrase"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
