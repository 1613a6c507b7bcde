"""Sign-ins and failed sign-ins go to the audit log; never the password or the typed username
of a failure, which may be someone's phone number."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.dispatch import receiver

from epigrid.accounts.audit import Actor, client_ip, record


@receiver(user_logged_in)
def audit_login(sender, request, user, **kwargs):
    with transaction.atomic():
        record(
            Actor(user=user, via="web", ip=client_ip(request) if request else None),
            "login",
            object_type="user",
            object_id=user.pk,
            division_code=user.division_code,
        )


@receiver(user_login_failed)
def audit_failed_login(sender, credentials, request=None, **kwargs):
    with transaction.atomic():
        record(
            Actor(user=None, via="web", ip=client_ip(request) if request else None),
            "login_failed",
            object_type="user",
        )
