import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from epigrid.accounts.audit import Actor
from epigrid.demo.build import build_demo
from epigrid.demo.management.commands.simulate import ProgressPrinter
from epigrid.demo.services import DEMO_PASSWORD
from epigrid.people.models import Person


class Command(BaseCommand):
    help = "Build the demo city into the database (once), print one login per role, and serve it."

    def add_arguments(self, parser):
        parser.add_argument("--persons", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--no-serve", action="store_true", help="build and print logins, then exit")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        actor = Actor.system("cli")
        host = options["addrport"]
        base_url = f"http://{host}"
        if Person.objects.count() < options["persons"]:
            self.stderr.write(f"building the demo city with {options['persons']:,} people …")
        started = time.perf_counter()
        build = build_demo(
            actor=actor,
            persons=options["persons"],
            seed=options["seed"],
            base_url=base_url,
            progress=ProgressPrinter(self.stderr._out),
        )
        self.stderr.write(f"demo ready in {time.perf_counter() - started:.1f} s")
        logins, codes = build.logins, build.codes
        db = settings.DATABASES["default"]
        self.stdout.write("")
        self.stdout.write(f"epigrid demo — database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']}")
        self.stdout.write(f"open http://{host}/  (every demo login uses the password: {DEMO_PASSWORD})")
        width = max(len(x["username"]) for x in logins)
        for login in logins:
            scope = " ".join(login["scope"]) or "units"
            self.stdout.write(
                f"  {login['username']:<{width}}  {login['role']:<17} {scope:<16} {base_url}{login['main']}"
            )
        self.stdout.write("")
        self.stdout.write("health codes (private links) and the checkpoint scanner:")
        for label in ("green", "yellow", "red", "scanner"):
            if codes.get(label):
                self.stdout.write(f"  {label:<8} {codes[label]}")
        links = build.links
        if links:
            self.stdout.write("status pages of people who declared an arrival:")
            for label, token in links.items():
                self.stdout.write(f"  {label:<20} {base_url}/me/{token}/")
        self.stdout.write(
            f"public pages: {base_url}/declarations/public/declare/  {base_url}/regions/risk-areas/  "
            f"{base_url}/testing/public/points/"
        )
        self.stdout.write("")
        if not options["no_serve"]:
            # the background worker runs bulk reassessments and list imports the pages start
            worker = subprocess.Popen([sys.executable, "-m", "epigrid", "worker", "--interval", "1"])
            self.stdout.write(f"background worker started (pid {worker.pid})")
            try:
                call_command("runserver", host, use_reloader=False, use_threading=True)
            finally:
                worker.terminate()
                worker.wait(timeout=10)
