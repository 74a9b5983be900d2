"""`needsfirst doctor`'s checks of the services it calls, each against the real fake on
loopback: Telegram's getMe and webhook, GOV.UK Notify, WhatsApp's Graph API, and the
public URL's /healthz as a load balancer reads it."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from telegram import Bot

from bot.actions.doctor import Finding
from bot.cli.doctor_commands import public_url
from bot.config import (
    Config,
    NotifyConfig,
    SafeguardingConfig,
    TelegramConfig,
    WebConfig,
    WhatsAppConfig,
)
from bot.notify.health_checks import notify
from bot.telegram.health_checks import telegram
from bot.whatsapp.health_checks import whatsapp
from tests.fakes.notify import FakeNotify
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.telegram_harness import TOKEN

WEBHOOK = "http://127.0.0.1:9/telegram/webhook"  # port 9 (discard): nothing listens


def levels(found: list[Finding]) -> list[tuple[str, str]]:
    return [(f.level, f.what) for f in found]


def on_fake(fake: FakeBotAPI, **telegram_settings: str) -> Config:
    settings = TelegramConfig(token=TOKEN, base_url=fake.base_url,
                              base_file_url=fake.base_file_url)  # fmt: skip
    return Config(telegram=replace(settings, **telegram_settings))


# --- Telegram -------------------------------------------------------------------------


async def test_telegram_token_is_checked_with_get_me_at_the_configured_base_url() -> None:
    async with FakeBotAPI(token=TOKEN, bot_username="council_needs_bot") as fake:
        found = await telegram(on_fake(fake))
        assert levels(found) == [("ok", "telegram")]
        assert "@council_needs_bot" in found[0].detail
        assert fake.calls_to("getMe"), "getMe went to the configured base_url"
        wrong = await telegram(on_fake(fake, token="999:WRONG-TOKEN"))
        assert levels(wrong) == [("fail", "telegram")] and "refused the token" in wrong[0].detail
        assert "WRONG-TOKEN" not in wrong[0].detail
        other = await telegram(on_fake(fake, bot_username="another_bot"))
        assert levels(other) == [("warn", "telegram")] and "another_bot" in other[0].detail
        config = on_fake(fake)
    gone = await telegram(config)  # the fake has stopped: nothing listens there
    assert levels(gone) == [("fail", "telegram")]
    assert gone[0].detail.startswith(f"cannot reach {config.telegram.base_url}")
    assert TOKEN not in gone[0].detail


async def test_telegram_off_without_a_token() -> None:
    assert levels(await telegram(Config())) == [("ok", "telegram")]


async def test_webhook_mode_wants_our_url_and_no_recent_delivery_error() -> None:
    async with FakeBotAPI(token=TOKEN) as fake:
        config = on_fake(fake, mode="webhook", webhook_url=WEBHOOK,
                         secret_token="s" * 20)  # fmt: skip
        unset = await telegram(config)
        assert levels(unset) == [("ok", "telegram"), ("fail", "telegram webhook")]
        assert "no webhook is set" in unset[1].detail
        async with Bot(TOKEN, base_url=fake.base_url) as bot:
            await bot.set_webhook("http://127.0.0.1:9/elsewhere")
            elsewhere = await telegram(config)
            assert levels(elsewhere)[1] == ("fail", "telegram webhook")
            assert "to http://127.0.0.1:9/elsewhere, not to" in elsewhere[1].detail
            await bot.set_webhook(WEBHOOK, secret_token="s" * 20)
        fine = await telegram(config)
        assert levels(fine)[1] == ("ok", "telegram webhook"), fine
        fake.webhook_retry_delay = 0.01
        ann = fake.user(5101, first_name="Ann")
        await ann.send_text("hello")  # Telegram tries our URL, where nothing answers
        for _ in range(200):
            if fake.webhook_attempts:
                break
            await asyncio.sleep(0.02)
        failing = await telegram(config)
        assert levels(failing)[1] == ("fail", "telegram webhook"), failing
        assert "last delivery" in failing[1].detail and "waiting" in failing[1].detail


# --- GOV.UK Notify --------------------------------------------------------------------


async def test_notify_key_and_templates_are_read_with_the_key() -> None:
    async with FakeNotify() as fake:
        key = fake.new_api_key()
        sms = fake.add_template("((message)) ((link))", type="sms")
        email = fake.add_template("((message))\n\n((link))", subject="News", type="email")
        lead = fake.add_template("Flag ((flag)) ((link)) ((raised)) ((reason))", subject="!")
        residents = NotifyConfig(api_key=key.value, base_url=fake.base_url,
                                 sms_template_id=sms.id, email_template_id=email.id)  # fmt: skip
        leads = SafeguardingConfig(emails=("lead@council.example",), notify_api_key=key.value,
                                   notify_template_id=lead.id, notify_base_url=fake.base_url)  # fmt: skip
        config = Config(notify=residents, safeguarding=leads)
        assert levels(await notify(config)) == [("ok", "notify"), ("ok", "notify (safeguarding)")]

        swapped = replace(config, notify=replace(residents, sms_template_id=email.id))
        found = await notify(swapped)
        assert found[0].level == "fail" and "is a email template, not sms" in found[0].detail

        missing = replace(config, notify=replace(residents, email_template_id=lead.id))
        found = await notify(missing)
        assert found[0].level == "warn" and "((message)) in the email template" in found[0].detail

        unknown = replace(config, notify=replace(
            residents, sms_template_id="f33517ff-2a88-4f6e-b855-c550268ce08a"))  # fmt: skip
        found = await notify(unknown)
        assert found[0].level == "fail" and "there is no sms template" in found[0].detail

        stranger = FakeNotify().new_api_key()  # a well-formed key this Notify does not know
        found = await notify(replace(config, notify=replace(residents, api_key=stranger.value)))
        assert found[0].level == "fail" and "refused the API key" in found[0].detail
        key.revoked = True
        found = await notify(config)
        assert [f.level for f in found] == ["fail", "fail"] and "revoked" in found[0].detail
        base = fake.base_url
    gone = await notify(replace(config, safeguarding=SafeguardingConfig()))
    assert levels(gone) == [("fail", "notify")] and gone[0].detail == f"cannot reach {base}"
    assert levels(await notify(Config())) == [("ok", "notify")]


# --- WhatsApp -------------------------------------------------------------------------


def whatsapp_config(fake: FakeWhatsApp, **settings: str) -> Config:
    return Config(whatsapp=replace(WhatsAppConfig(
        phone_number_id=fake.phone_number_id, display_number=fake.display_phone_number,
        access_token=fake.access_token, app_secret=fake.app_secret,
        verify_token="a-verify-token-of-length", base_url=fake.base_url,
        api_version=fake.api_version), **settings))  # fmt: skip


async def test_whatsapp_reads_the_phone_number_with_the_token() -> None:
    async with FakeWhatsApp() as fake:
        found = await whatsapp(whatsapp_config(fake))
        assert levels(found) == [("ok", "whatsapp")], found
        assert "+44 7700 900100" in found[0].detail and "GREEN" in found[0].detail
        refused = await whatsapp(whatsapp_config(fake, access_token="EAAnotTheToken"))
        assert levels(refused) == [("fail", "whatsapp")] and "(HTTP 401)" in refused[0].detail
        assert "access token is refused" in refused[0].detail
        wrong_id = await whatsapp(whatsapp_config(fake, phone_number_id="123456789"))
        assert levels(wrong_id) == [("fail", "whatsapp")] and "123456789" in wrong_id[0].detail
        other = await whatsapp(whatsapp_config(fake, display_number="447700900999"))
        assert levels(other) == [("warn", "whatsapp")] and "447700900999" in other[0].detail
        config = whatsapp_config(fake)
    gone = await whatsapp(config)
    assert levels(gone) == [("fail", "whatsapp")] and gone[0].detail.startswith("cannot reach")
    assert levels(await whatsapp(Config())) == [("ok", "whatsapp")]


# --- the public URL -------------------------------------------------------------------


async def test_public_url_health_as_the_load_balancer_sees_it(fake: FakeBotAPI,
                                                              db_url: str) -> None:  # fmt: skip
    from tests.telegram_harness import bot_config, running_bot

    async with running_bot(bot_config(fake, db_url)) as service:
        assert service.runner is not None
        host, port = service.runner.addresses[0][:2]
        config = Config(web=WebConfig(public_url=f"http://{host}:{port}/"))
        assert levels(await public_url(config)) == [("ok", "public url")]
        service.status["telegram"] = "unreachable"  # being retried: still served
        found = await public_url(config)
        assert (
            levels(found) == [("warn", "public url")] and "telegram unreachable" in found[0].detail
        )
        service.status["whatsapp"] = "down"
        found = await public_url(config)
        assert levels(found) == [("fail", "public url")] and "503 unhealthy" in found[0].detail
    gone = await public_url(config)
    assert levels(gone) == [("fail", "public url")] and "ClientConnectorError" in gone[0].detail
    assert levels(await public_url(Config())) == [("warn", "public url")]
