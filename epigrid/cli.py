"""The `epigrid` console command: Django's management commands under one name.

`epigrid demo`, `epigrid simulate`, `epigrid token`, `epigrid runserver`, `epigrid worker`
and every other management command run through here.
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epigrid.settings")
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    execute_from_command_line(["epigrid", *args])


if __name__ == "__main__":
    main()
