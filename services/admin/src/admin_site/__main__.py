"""``python -m admin_site <command>``: Django's manage.py for the admin service."""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "admin_site.settings")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
