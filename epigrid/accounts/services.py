"""The only writers of users, scope grants and API tokens."""

import hashlib
import secrets
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from epigrid.accounts.audit import Actor, record
from epigrid.accounts.models import ApiToken, ScopeGrant, User
from epigrid.accounts.roles import Role
from epigrid.accounts.scoping import scope_of
from epigrid.lib.errors import DomainError, Forbidden

TOKEN_PREFIX = "egt_"


class AccountError(DomainError):
    pass


def create_user(
    *,
    actor: Actor,
    username: str,
    password: str | None,
    role: str,
    prefixes: list[str] = (),
    display_name: str = "",
    division_code: str = "",
    is_machine: bool = False,
) -> User:
    if role not in Role.values:
        raise AccountError("role_invalid", _("Unknown role %(role)s.") % {"role": role}, "role")
    for prefix in prefixes:
        if not prefix.isdigit() or len(prefix) > 15:
            raise AccountError("prefix_invalid", _("A scope prefix is 1 to 15 digits."), "prefixes")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AccountError("username_taken", _("This username is taken."), "username")
        user = User(
            username=username,
            role=role,
            display_name=display_name,
            division_code=division_code or (prefixes[0] if prefixes else ""),
            is_machine=is_machine,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save()
        ScopeGrant.objects.bulk_create([ScopeGrant(user=user, division_prefix=p) for p in prefixes])
        record(
            actor,
            "create",
            object_type="user",
            object_id=user.pk,
            division_code=user.division_code,
            fields=["username", "role", "scope"],
        )
    return user


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    *,
    actor: Actor,
    user: User,
    name: str,
    prefixes: list[str] | None = None,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise AccountError("name_missing", _("Give the token a name that says which client uses it."), "name")
    if actor.user is not None and actor.user.pk != user.pk and actor.user.role != Role.ADMIN:
        raise Forbidden("token_forbidden", _("Only administrators create tokens for other users."))
    user_scope = scope_of(user)
    prefixes = [p.strip() for p in (prefixes or []) if p.strip()]
    for prefix in prefixes:
        if not prefix.isdigit() or not user_scope.covers_division(prefix):
            raise AccountError(
                "prefix_outside_scope",
                _("%(prefix)s is outside the user's scope.") % {"prefix": prefix},
                "prefixes",
            )
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            name=name[:100],
            key_prefix=secret[:12],
            key_hash=_hash(secret),
            scope_prefixes=prefixes,
            created_by=actor.user,
            expires_at=expires_at,
        )
        record(
            actor,
            "token",
            object_type="api_token",
            object_id=token.pk,
            division_code=user.division_code,
            fields=["name", "scope_prefixes"],
            note="created",
        )
    return token, secret


def revoke_token(*, actor: Actor, token: ApiToken) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            record(
                actor,
                "token",
                object_type="api_token",
                object_id=token.pk,
                division_code=token.user.division_code,
                fields=["revoked_at"],
                note="revoked",
            )
    return token


def user_for_token(secret: str) -> User | None:
    """The active user behind a bearer token, with the token's narrower scope applied."""
    if not secret or not secret.startswith(TOKEN_PREFIX) or len(secret) > 100:
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=_hash(secret)).first()
    now = timezone.now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    user = token.user
    if not user.is_active:
        return None
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 300:
        # coarse last-use stamp: one write per token per five minutes, not one per request
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    if token.scope_prefixes:
        user._token_prefixes = list(token.scope_prefixes)
    user._api_token_id = token.pk
    return user
