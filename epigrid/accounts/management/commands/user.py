import getpass

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts import services
from epigrid.accounts.audit import Actor
from epigrid.accounts.roles import Role
from epigrid.lib.errors import DomainError


class Command(BaseCommand):
    help = "Create a staff or machine user with a role and division scope."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--prefix", action="append", default=[], help="division code prefix (repeat)")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--machine", action="store_true", help="a machine client: no password, tokens only"
        )

    def handle(self, *args, **options):
        password = None
        if not options["machine"]:
            password = getpass.getpass("Password: ")
            if len(password) < 10:
                raise CommandError("use at least 10 characters")
        try:
            user = services.create_user(
                actor=Actor.system("cli"),
                username=options["username"],
                password=password,
                role=options["role"],
                prefixes=options["prefix"],
                display_name=options["display_name"],
                is_machine=options["machine"],
            )
        except DomainError as exc:
            raise CommandError(exc.message)
        self.stdout.write(f"created {user.username} ({user.role}) scope={' '.join(options['prefix']) or '-'}")
