"""Each setting is written once, in support/conf.py (or by the backend that reads it): the
README's table, .env.example and the project's reading of the environment come from there,
and a backend from another package brings its own settings."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command

from config.settings import env as project_env
from config.settings import support_settings
from support.backends.base import BaseForwardBackend, ForwardResult
from support.conf import REQUIRED, SETTINGS, Setting, get_setting, known_settings
from support.management.commands.support_settings import env_value

ROOT = Path(__file__).resolve().parent.parent


def printed(*args: str) -> str:
    out = StringIO()
    call_command("support_settings", *args, stdout=out)
    return out.getvalue()


def test_the_readme_table_is_what_the_declarations_say():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("<!-- settings: made by `manage.py support_settings --markdown` -->\n")
    assert len(table) == 2, "README.md lost its settings markers"
    assert table[1].split("<!-- end of settings -->")[0] == printed("--markdown")


def test_env_example_ends_with_what_the_declarations_say():
    example = (ROOT / ".env.example").read_text()
    assert example.endswith("\n" + printed("--env"))
    # Nothing above the generated part restates an app setting.
    above = example[: -len(printed("--env"))]
    for setting in known_settings():
        assert f"SUPPORT_{setting.name}=" not in above


def test_every_setting_is_documented_once_with_its_default():
    table = printed("--markdown")
    names = [setting.name for setting in known_settings()]
    assert len(names) == len(set(names))
    for setting in known_settings():
        assert table.count(f"| `{setting.name}` |") == 1
        assert setting.help


@pytest.mark.parametrize("setting", list(known_settings()), ids=lambda s: s.name)
def test_the_environment_reads_each_setting_as_its_type(monkeypatch, setting):
    value = (setting.example or "s3cret") if setting.required else env_value(setting.default)
    monkeypatch.setenv(f"SUPPORT_{setting.name}", value)

    read = support_settings(project_env)[setting.name]

    expected = value if setting.required else setting.default
    assert read == expected
    # A number declared as a float may have an int default (30): either reads as a number.
    assert type(read) is type(expected) or isinstance(expected, int | float)


def test_unset_variables_leave_the_apps_defaults(monkeypatch):
    for setting in known_settings():
        monkeypatch.delenv(f"SUPPORT_{setting.name}", raising=False)
    assert support_settings(project_env) == {}


def test_an_empty_variable_turns_an_optional_text_setting_off(monkeypatch):
    monkeypatch.setenv("SUPPORT_API_RATE", "")
    monkeypatch.setenv("SUPPORT_STAFF_EMAILS", "")
    assert support_settings(project_env) == {"API_RATE": None, "STAFF_EMAILS": []}


def test_the_apps_settings_have_their_declared_defaults(settings):
    settings.SUPPORT = {"SITE_URL": "https://x.example"}
    for setting in SETTINGS:
        if not setting.required:
            assert get_setting(setting.name) == setting.default


class AcmeBackend(BaseForwardBackend):
    """A forwarding backend as another package would write it, with its own settings."""

    declared_settings = (
        *BaseForwardBackend.declared_settings,
        Setting("ACME_TOKEN", REQUIRED, str, "The Acme helpdesk's token."),
        Setting("ACME_QUEUE", "support", str, "Which Acme queue."),
    )

    def forward(self, ticket, delivery):
        return ForwardResult(external_id=f"{self.setting('ACME_QUEUE')}/{ticket.pk}")


def test_a_backend_of_another_package_declares_and_checks_its_own_settings(settings):
    path = f"{__name__}.AcmeBackend"
    settings.SUPPORT = {**settings.SUPPORT, "FORWARD_BACKEND": path}
    errors = [e for e in run_checks() if e.id == "support.E006"]
    assert [e.msg for e in errors] == [
        f"{path} needs SUPPORT['ACME_TOKEN'] (SUPPORT_ACME_TOKEN in the environment)."
    ]

    settings.SUPPORT = {**settings.SUPPORT, "ACME_TOKEN": "t0ken"}

    assert [e for e in run_checks() if e.id.startswith("support.")] == []
    assert AcmeBackend.setting("ACME_TOKEN") == "t0ken"
    assert AcmeBackend.setting("ACME_QUEUE") == "support"
    assert AcmeBackend().timeout == 10
