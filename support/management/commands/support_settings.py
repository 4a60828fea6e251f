"""Print the app's settings, as declared in support/conf.py (and by its built-in backends):
a Markdown table for the README, or the `SUPPORT_*` lines of `.env.example`. Both files
hold exactly this output (tests/test_settings_docs.py), so a default is written once.

    manage.py support_settings --markdown
    manage.py support_settings --env
"""

import json
import textwrap

from django.core.management.base import BaseCommand

from ...conf import SETTINGS, Setting, known_settings

WIDTH = 92


def env_value(value) -> str:
    """A value as the environment spells it (support.conf.Setting.kind)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def as_markdown(settings: list[Setting]) -> str:
    lines = [
        "| Setting (`SUPPORT[...]`, or `SUPPORT_...` in the environment) | Default | |",
        "| --- | --- | --- |",
    ]
    for setting in settings:
        default = "*required*" if setting.required else f"`{env_value(setting.default)}`"
        if default == "``":
            default = "none"
        lines.append(f"| `{setting.name}` | {default} | {setting.help.replace('|', '/')} |")
    return "\n".join(lines) + "\n"


def as_env_file(settings: list[Setting]) -> str:
    lines = []
    for setting in settings:
        comment = setting.help
        if setting.example and not setting.required and setting.default != setting.example:
            comment += f" E.g. {setting.example}"
        lines += textwrap.wrap(comment, WIDTH - 2, initial_indent="# ", subsequent_indent="# ")
        if setting.required and setting in SETTINGS:  # the app's own: set it
            lines.append(f"SUPPORT_{setting.name}={setting.example}")
        elif setting.required:  # a backend's: needed when that backend is used
            lines.append(f"# SUPPORT_{setting.name}={setting.example}")
        else:
            lines.append(f"# SUPPORT_{setting.name}={env_value(setting.default)}")
    return "\n".join(lines) + "\n"


class Command(BaseCommand):
    help = "Print the app's settings with their defaults: a Markdown table, or .env lines."
    requires_system_checks = []  # it documents the settings: it must work before they do

    def add_arguments(self, parser) -> None:
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--markdown", action="store_true", help="the README's table")
        group.add_argument("--env", action="store_true", help="the lines of .env.example")

    def handle(self, *args, markdown: bool, env: bool, **options) -> None:
        settings = list(known_settings())
        self.stdout.write(as_markdown(settings) if markdown else as_env_file(settings), ending="")
