"""Signing in: Argon2 hashes; a lock after five wrong passwords for one user from one address,
and after a higher count for one user from anywhere (issue 10.9)."""

from django.test import Client

from epigrid.accounts.models import User


def test_passwords_are_hashed_with_argon2(persona):
    user = persona("cdc", password="a long passphrase")
    assert User.objects.get(pk=user.pk).password.startswith("argon2")


def _login(address: str, username: str, password: str):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_it_locks_a_user_at_an_address_after_five_wrong_passwords(persona):
    persona("grid_worker", username="worker-lock", password="the right passphrase")
    for _ in range(5):
        assert _login("10.0.0.1", "worker-lock", "wrong").status_code in (200, 429)

    locked = _login("10.0.0.1", "worker-lock", "the right passphrase")

    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session


def test_it_five_failures_of_one_user_behind_a_nat_lock_no_other_user_there(persona):
    persona("grid_worker", username="worker-a", password="the right passphrase")
    persona("grid_worker", username="worker-b", password="the other passphrase")
    for _ in range(5):
        _login("10.0.0.1", "worker-a", "wrong")

    assert _login("10.0.0.1", "worker-b", "the other passphrase").status_code == 302
    # and the locked user, from another address, is not locked by the office's five
    assert _login("10.0.0.2", "worker-a", "the right passphrase").status_code == 302


def test_it_locks_a_user_everywhere_after_a_guess_spread_over_many_addresses(persona, settings):
    persona("grid_worker", username="worker-spread", password="the right passphrase")
    persona("grid_worker", username="worker-other", password="the other passphrase")
    limit = settings.EPIGRID_LOGIN_USER_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    # four from each address: never five from one
    for i in range(limit):
        _login(f"10.1.{i // 4}.1", "worker-spread", "wrong")

    assert _login("10.9.9.9", "worker-spread", "the right passphrase").status_code == 429
    # the addresses the guess came from still let everyone else in
    assert _login("10.1.0.1", "worker-other", "the other passphrase").status_code == 302


def test_a_correct_password_signs_in(persona):
    persona("grid_worker", username="worker-ok", password="the right passphrase")
    client = Client()
    response = client.post("/accounts/login/", {"username": "worker-ok", "password": "the right passphrase"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
