"""Configuration: defaults, the documented example, environment overrides, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Config, ConfigError, staff_roles
from bot.config_loading import load_config
from conversations.storage.db import redact_url

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = (
    "database",
    "telegram",
    "web",
    "staff",
    "digest",
    "consultations",
    "scheduler",
    "reminders",
    "retention",
    "notify",
)


def test_config_example_documents_exactly_the_defaults() -> None:
    example = load_config(ROOT / "config.example.toml", environ={})
    defaults = Config()
    for section in SECTIONS:
        assert getattr(example, section) == getattr(defaults, section), section


def test_every_setting_is_documented_in_the_example() -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section in SECTIONS:
        assert f"[{section}]" in text
        for name in getattr(Config(), section).__dataclass_fields__:
            assert f"\n{name} = " in text, f"{section}.{name} is not in config.example.toml"


def test_no_file_means_built_in_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(environ={})
    assert config.source == "built-in defaults"
    assert config.database.url == "sqlite:///needsfirst.db"


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[telegram]\ntoken = "1:file"\n[staff]\nofficers = [5]\n', encoding="utf-8")
    config = load_config(
        path, environ={"NEEDSFIRST_TELEGRAM_TOKEN": "2:env", "NEEDSFIRST_STAFF_OFFICERS": "7, 8"}
    )
    assert config.telegram.token == "2:env"
    assert config.staff.officers == (7, 8)


NOTIFY_KEY = "needsfirst-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
TEMPLATE = "f33517ff-2a88-4f6e-b855-c550268ce08a"


def test_email_leads_with_notify_configured() -> None:
    config = load_config(
        None,
        environ={
            "NEEDSFIRST_SAFEGUARDING_EMAILS": "lead@council.example, duty@council.example",
            "NEEDSFIRST_SAFEGUARDING_NOTIFY_API_KEY": NOTIFY_KEY,
            "NEEDSFIRST_SAFEGUARDING_NOTIFY_TEMPLATE_ID": TEMPLATE,
        },
    )
    assert config.safeguarding.emails == ("lead@council.example", "duty@council.example")


def test_residents_notify_is_off_by_default_and_its_key_a_secret() -> None:
    assert load_config(None, environ={}).notify.api_key == ""
    config = load_config(
        None,
        environ={
            "NEEDSFIRST_NOTIFY_API_KEY": NOTIFY_KEY,
            "NEEDSFIRST_NOTIFY_SMS_TEMPLATE_ID": TEMPLATE,
            "NEEDSFIRST_NOTIFY_EMAIL_TEMPLATE_ID": TEMPLATE,
        },
    )
    assert config.notify.api_key == NOTIFY_KEY and config.notify.per_minute == 2900


@pytest.mark.parametrize(
    ("content", "key", "problem"),
    [
        ("[telegram\n", "file", "not valid TOML"),
        ("[colour]\n", "colour", "unknown section"),
        ("[web]\nport = 'eighty'\n", "web.port", "whole number"),
        ("[web]\nport = 70000\n", "web.port", "between 1 and 65535"),
        ("[web]\nhots = 'x'\n", "web.hots", "unknown key"),
        ("[telegram]\nmode = 'carrier-pigeon'\n", "telegram.mode", "polling"),
        ("[telegram]\ntoken = 'nocolon'\n", "telegram.token", "BotFather"),
        (
            "[telegram]\ntoken = '1:a'\nmode = 'webhook'\nwebhook_url = 'https://x.example/telegram/webhook'\n",
            "telegram.secret_token",
            "16+",
        ),
        ("[staff]\nofficers = ['bob']\n", "staff.officers", "list of ints"),
        ("[digest]\ntimezone = 'Mars/Olympus'\n", "digest.timezone", "time zone"),
        ("[digest]\ntime = '25:00'\n", "digest.time", "time such as"),
        ("[telegram]\nbroadcast_headroom = 30\n", "telegram.broadcast_headroom", "0 to 10"),
        ("[telegram]\nbroadcast_headroom = -1\n", "telegram.broadcast_headroom", "0 to 10"),
        ("[telegram]\nshared_budget = 'localhost:6379'\n", "telegram.shared_budget", "Redis URL"),
        (
            "[safeguarding]\nescalate_after_minutes = 0\n",
            "safeguarding.escalate_after_minutes",
            "5 to 1440",
        ),
        ("[safeguarding]\nemails = ['lead']\n", "safeguarding.emails", "not an email address"),
        ("[safeguarding]\nfallback_telegram = ['x']\n", "safeguarding.fallback_telegram", "ints"),
        (
            "[safeguarding]\nemails = ['lead@council.example']\n",
            "safeguarding.notify_api_key",
            "need a GOV.UK Notify API key",
        ),
        (
            "[safeguarding]\nfallback_emails = ['duty@council.example']\nnotify_api_key = 'abc'\n",
            "safeguarding.notify_api_key",
            "does not look like",
        ),
        (
            f"[safeguarding]\nemails = ['a@b.example']\nnotify_api_key = '{NOTIFY_KEY}'\n"
            "notify_template_id = 'welcome'\n",
            "safeguarding.notify_template_id",
            "UUID",
        ),
        (
            f"[safeguarding]\nemails = ['a@b.example']\nnotify_api_key = '{NOTIFY_KEY}'\n"
            f"notify_template_id = '{TEMPLATE}'\nnotify_base_url = 'http://notify.example'\n",
            "safeguarding.notify_base_url",
            "https://",
        ),
        ("[notify]\napi_key = 'abc'\n", "notify.api_key", "does not look like"),
        (
            f"[notify]\napi_key = '{NOTIFY_KEY}'\nemail_template_id = '{TEMPLATE}'\n",
            "notify.sms_template_id",
            "UUID",
        ),
        (
            f"[notify]\napi_key = '{NOTIFY_KEY}'\nemail_template_id = '{TEMPLATE}'\n"
            f"sms_template_id = '{TEMPLATE}'\nper_minute = 3001\n",
            "notify.per_minute",
            "1 to 3000",
        ),
        (
            "[themes]\nembedding_model = 'LaBSE'\n",
            "themes.embedding_model",
            'must be "all-MiniLM-L6-v2" or "multilingual-e5-small"',
        ),
    ],
)
def test_a_bad_config_names_file_key_and_problem(
    tmp_path: Path, content: str, key: str, problem: str
) -> None:
    path = tmp_path / "council.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.source == str(path)
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_a_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml", environ={})


def test_staff_roles() -> None:
    config = load_config(
        None, environ={"NEEDSFIRST_STAFF_ADMINS": "1", "NEEDSFIRST_STAFF_OFFICERS": "2"}
    )
    assert staff_roles(config, 1) == {"admin", "facilitator", "officer"}
    assert staff_roles(config, 2) == {"officer"}
    assert staff_roles(config, 3) == set()


def test_database_passwords_are_never_printed() -> None:
    assert "s3cret" not in redact_url("postgresql+psycopg://needs:s3cret@db:5432/needsfirst")
    assert "s3cret" not in redact_url("not a url s3cret://")


def test_staff_emails_need_notify_and_their_templates(tmp_path: Path) -> None:
    """Staff by email: each address checked, and Notify's key and templates named when missing."""
    path = tmp_path / "config.toml"
    notify = (f'[notify]\napi_key = "{NOTIFY_KEY}"\nsms_template_id = "{TEMPLATE}"\n'
              f'email_template_id = "{TEMPLATE}"\n')  # fmt: skip
    cases = {
        '[staff]\nofficer_emails = ["jo at council"]\n': ("staff.officer_emails", "jo at council"),
        '[staff]\nfacilitator_emails = ["jo@council.gov.uk"]\n': ("notify.api_key", "Notify"),
        '[staff]\nadmin_emails = ["jo@council.gov.uk"]\n' + notify: (
            "notify.sign_in_template_id", "((link))"),
        '[staff]\nofficer_emails = ["jo@council.gov.uk"]\n' + notify
        + f'sign_in_template_id = "{TEMPLATE}"\n': ("notify.digest_template_id", "((link_to_file))"),
        notify + 'digest_template_id = "nope"\n': ("notify.digest_template_id", "UUID"),
    }  # fmt: skip
    for text, (key, words) in cases.items():
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as raised:
            load_config(path, environ={})
        assert raised.value.key == key and words in raised.value.problem, text
        assert str(path) in str(raised.value)
    path.write_text('[staff]\nofficer_emails = ["Jo@Council.gov.uk"]\n' + notify
                    + f'sign_in_template_id = "{TEMPLATE}"\ndigest_template_id = "{TEMPLATE}"\n',
                    encoding="utf-8")  # fmt: skip
    config = load_config(path, environ={})
    assert staff_roles(config, "jo@council.gov.uk") == {"officer"}
