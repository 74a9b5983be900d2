"""The fake GOV.UK Notify refuses files as Notify does, against its real Python client."""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from notifications_python_client.utils import prepare_upload

from tests.fakes.notify import FakeNotify

ADDRESS = "jo@council.example.gov.uk"


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify() as server:
        yield server


async def send(notify: FakeNotify, file: Any, body: str = "Here: ((link_to_file))") -> Any:
    key = notify.new_api_key()
    template = notify.add_template(body)
    client = NotificationsAPIClient(key.value, base_url=notify.base_url)
    return await asyncio.to_thread(client.send_email_notification, ADDRESS, template.id,
                                   personalisation={"link_to_file": file})  # fmt: skip


async def refusal(notify: FakeNotify, file: Any, body: str = "Here: ((link_to_file))") -> str:
    with pytest.raises(HTTPError) as raised:
        await send(notify, file, body)
    assert raised.value.status_code == 400
    (error,) = raised.value.message
    assert isinstance(error, dict) and error["error"] == "BadRequestError"
    return str(error["message"])


def upload(content: bytes, filename: str | None = "table.csv", **options: Any) -> Any:
    return prepare_upload(io.BytesIO(content), filename=filename, **options)


async def test_a_csv_becomes_a_link_behind_an_address_check(notify: FakeNotify) -> None:
    await send(notify, upload(b"a,b\r\n1,2\r\n", confirm_email_before_download=True,
                              retention_period="4 weeks"))  # fmt: skip
    (sent,) = notify.sent
    (file,) = sent.files.values()
    assert file.content == b"a,b\r\n1,2\r\n" and file.mimetype == "text/csv"
    assert file.retention_period == "4 weeks" and file.confirm_email_before_download
    assert sent.body == f"Here: {file.url}"


async def test_html_is_refused_whatever_its_name(notify: FakeNotify) -> None:
    page = b"<!DOCTYPE html><html><body>report</body></html>"
    assert (await refusal(notify, upload(page, "report.html"))).startswith(
        "Unsupported file type 'text/html'"
    )
    assert "Unsupported file type 'text/html'" in await refusal(notify, upload(page, "report.txt"))
    assert notify.sent == []


async def test_files_over_2mb_bad_base64_names_and_periods_are_refused(notify: FakeNotify) -> None:
    big = base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode()  # past the client's own check
    assert await refusal(notify, {"file": big, "filename": "big.txt"}) == "File is larger than 2MB"
    assert await refusal(notify, {"file": "not base64!"}) == "File is not base64 encoded"
    assert "must end with a file extension" in await refusal(notify, upload(b"a,b", "table"))
    assert "cannot be longer than 100" in await refusal(notify, upload(b"a", "t" * 97 + ".csv"))
    assert "Supported periods are from 1 to 78 weeks" in await refusal(
        notify, upload(b"a,b", retention_period="79 weeks")
    )
    assert "Use a boolean" in await refusal(
        notify, {"file": base64.b64encode(b"a").decode(), "confirm_email_before_download": "yes"}
    )
    assert notify.sent == []


async def test_a_service_without_files_set_up_and_a_template_without_the_placeholder(
    notify: FakeNotify,
) -> None:
    assert "has no placeholder ((link_to_file))" in await refusal(
        notify, upload(b"a,b"), body="No file here"
    )
    notify.files_enabled = False
    assert (await refusal(notify, upload(b"a,b"))).startswith(
        "Send files by email has not been set up"
    )


async def test_a_message_is_found_by_its_reference(notify: FakeNotify) -> None:
    key = notify.new_api_key()
    template = notify.add_template("Hello")
    client = NotificationsAPIClient(key.value, base_url=notify.base_url)
    sent = await asyncio.to_thread(client.send_email_notification, ADDRESS, template.id,
                                   reference="digest-1-email-1")  # fmt: skip
    found = await asyncio.to_thread(client.get_all_notifications, reference="digest-1-email-1")
    assert [n["id"] for n in found["notifications"]] == [sent["id"]]
    none = await asyncio.to_thread(client.get_all_notifications, reference="digest-1-email-2")
    assert none["notifications"] == []


async def test_the_rate_limit_answers_429_and_takes_nothing(notify: FakeNotify) -> None:
    notify.rate_limit = 2
    key = notify.new_api_key()
    template = notify.add_template("Here: ((link_to_file))")
    client = NotificationsAPIClient(key.value, base_url=notify.base_url)

    def one() -> Any:
        return client.send_email_notification(
            ADDRESS, template.id, personalisation={"link_to_file": upload(b"a,b")}
        )

    for _ in range(2):
        await asyncio.to_thread(one)
    with pytest.raises(HTTPError) as raised:
        await asyncio.to_thread(one)
    assert raised.value.status_code == 429
    assert raised.value.message[0]["error"] == "RateLimitError"  # type: ignore[index]
    assert len(notify.sent) == 2
