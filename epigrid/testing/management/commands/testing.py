"""`epigrid testing …`: what an administrator does for the testing app from the command line.

epigrid testing attach-lab --user lab2 --lab "昆山市疾控中心实验室"   # the lab a lab user works for
epigrid testing screen --division 320583 --group medical_staff        # order a group's screening
"""

from django.core.management.base import BaseCommand, CommandError

from epigrid.accounts.audit import Actor
from epigrid.accounts.models import User
from epigrid.lib.errors import DomainError
from epigrid.testing import services
from epigrid.testing.models import GroupName, MustTestGroup
from epigrid.units.models import Unit, UnitKind


class Command(BaseCommand):
    help = "Testing administration: attach a lab user to a lab; run a must-test group's screening."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        attach = sub.add_parser("attach-lab", help="the lab a lab user (and their API tokens) works for")
        attach.add_argument("--user", required=True)
        attach.add_argument("--lab", required=True, help="the lab unit's id or exact name")
        screen = sub.add_parser("screen", help="order tests for a must-test group reached through rosters")
        screen.add_argument("--division", required=True, help="the jurisdiction the group is configured for")
        screen.add_argument("--group", required=True, choices=GroupName.values)
        screen.add_argument("--test", default="nucleic_acid")

    def handle(self, *args, **options):
        actor = Actor.system("cli")
        try:
            if options["action"] == "attach-lab":
                self._attach(actor, options)
            else:
                self._screen(actor, options)
        except DomainError as exc:
            raise CommandError(exc.message)

    def _attach(self, actor, options):
        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user named {options['user']!r}")
        labs = Unit.objects.filter(kind=UnitKind.LAB)
        lab = labs.filter(name=options["lab"]).first()
        if lab is None:
            import uuid

            try:
                lab = labs.filter(pk=uuid.UUID(options["lab"])).first()
            except ValueError:
                lab = None
        if lab is None:
            raise CommandError(f"no lab {options['lab']!r}; create it as a unit of kind lab first")
        services.attach_lab_member(actor=actor, user=user, lab=lab)
        self.stdout.write(f"{user.username} works for {lab.name}")

    def _screen(self, actor, options):
        config = MustTestGroup.objects.filter(
            division_code=options["division"], group=options["group"], test=options["test"], active=True
        ).first()
        if config is None:
            raise CommandError("this group is not configured for that division; set it on /testing/groups/")
        count = services.screen_group(actor=actor, config=config)
        self.stdout.write(f"{count} test orders")
