from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from epigrid.accounts import services
from epigrid.accounts.audit import Actor
from epigrid.accounts.models import ApiToken, User
from epigrid.lib.errors import DomainError


class Command(BaseCommand):
    help = "Create, list or revoke API tokens for machine clients (labs, checkpoints, the data team)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a token; the secret is printed once")
        create.add_argument("--user", required=True, help="username the token acts as")
        create.add_argument("--name", required=True, help="which client uses it")
        create.add_argument(
            "--prefix", action="append", default=[], help="narrow to a division prefix (repeat)"
        )
        create.add_argument("--expires", help="last valid day, YYYY-MM-DD")
        lister = sub.add_parser("list", help="list tokens of a user")
        lister.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="revoke a token by id")
        revoke.add_argument("token_id")

    def handle(self, *args, **options):
        actor = Actor.system("cli")
        action = options["action"]
        if action == "create":
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"no user named {options['user']!r}")
            expires = None
            if options["expires"]:
                try:
                    day = datetime.strptime(options["expires"], "%Y-%m-%d").date()
                except ValueError:
                    raise CommandError("--expires takes a date as YYYY-MM-DD")
                expires = timezone.make_aware(datetime.combine(day, time.max))
            try:
                token, secret = services.create_token(
                    actor=actor,
                    user=user,
                    name=options["name"],
                    prefixes=options["prefix"],
                    expires_at=expires,
                )
            except DomainError as exc:
                raise CommandError(exc.message)
            self.stdout.write(f"token id: {token.pk}")
            self.stdout.write(f"secret (shown once): {secret}")
        elif action == "list":
            for token in ApiToken.objects.filter(user__username=options["user"]):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(
                    f"{token.pk}  {token.key_prefix}…  {state}  {token.name}  "
                    f"{' '.join(token.scope_prefixes) or '-'}"
                )
        else:
            token = (
                ApiToken.objects.filter(pk=options["token_id"]).first()
                if _is_uuid(options["token_id"])
                else None
            )
            if token is None:
                raise CommandError("no such token")
            services.revoke_token(actor=actor, token=token)
            self.stdout.write(f"revoked {token.pk}")


def _is_uuid(value: str) -> bool:
    import uuid

    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
