"""Graph API error answers, and the WhatsApp error codes the fake gives.

A synchronous error is an HTTP answer in Graph's shape; an asynchronous one is the
``errors`` list of a ``failed`` status webhook.  Both carry the same code, title and
details (Meta puts the title in ``message``, as "(#code) title" in Graph answers).
"""

from __future__ import annotations

import secrets
import string
from typing import Any, Final

from aiohttp import web

JSON = dict[str, Any]

ERROR_CODES_URL: Final = (
    "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"
)

# Codes the fake gives (Meta's names for them).
UNKNOWN: Final = 1
INVALID_PARAMETER: Final = 100
INVALID_TOKEN: Final = 190
UNKNOWN_PATH: Final = 2500
RATE_LIMIT_HIT: Final = 130429
SOMETHING_WENT_WRONG: Final = 131000
MISSING_PARAMETER: Final = 131008
INVALID_VALUE: Final = 131009
UNDELIVERABLE: Final = 131026
REENGAGEMENT: Final = 131047
SPAM_RATE_LIMIT: Final = 131048
MEDIA_UPLOAD_ERROR: Final = 131053
PAIR_RATE_LIMIT: Final = 131056
TEMPLATE_PARAM_COUNT: Final = 132000
TEMPLATE_MISSING: Final = 132001
TEMPLATE_TOO_LONG: Final = 132005
TEMPLATE_PAUSED: Final = 132015
TEMPLATE_DISABLED: Final = 132016
TEMPLATE_PARAM_FORMAT: Final = 132018

TITLES: Final[dict[int, str]] = {
    UNKNOWN: "An unknown error has occurred.",
    2: "Service temporarily unavailable",
    INVALID_PARAMETER: "Invalid parameter",
    INVALID_TOKEN: "Invalid OAuth access token - Cannot parse access token",
    UNKNOWN_PATH: "Unknown path components",
    RATE_LIMIT_HIT: "Rate limit hit",
    SOMETHING_WENT_WRONG: "Something went wrong",
    MISSING_PARAMETER: "Required parameter is missing",
    INVALID_VALUE: "Parameter value is not valid",
    131016: "Service unavailable",
    UNDELIVERABLE: "Message undeliverable",
    REENGAGEMENT: "Re-engagement message",
    SPAM_RATE_LIMIT: "Spam rate limit hit",
    MEDIA_UPLOAD_ERROR: "Media upload error",
    PAIR_RATE_LIMIT: "(Business Account, Consumer Account) pair rate limit hit",
    TEMPLATE_PARAM_COUNT: "Number of parameters does not match the expected number of params",
    TEMPLATE_MISSING: "Template name does not exist in the translation",
    TEMPLATE_TOO_LONG: "Translated text too long",
    TEMPLATE_PAUSED: "Template is paused",
    TEMPLATE_DISABLED: "Template is disabled",
    TEMPLATE_PARAM_FORMAT: "There was an issue with the parameters in your template.",
}

DETAILS: Final[dict[int, str]] = {
    RATE_LIMIT_HIT: "Cloud API message throughput has been reached.",
    PAIR_RATE_LIMIT: "Message failed to send because there were too many messages sent from "
    "this phone number to the same phone number in a short period of time.",
    REENGAGEMENT: "Message failed to send because more than 24 hours have passed since the "
    "customer last replied to this number.",
    UNDELIVERABLE: "Unable to deliver message. Reasons can include: the recipient phone "
    "number is not a WhatsApp phone number, or the recipient blocked the business.",
    SPAM_RATE_LIMIT: "Failed to send message because this phone number has reached its "
    "limit of business-initiated conversations with unique customers in 24 hours.",
    SOMETHING_WENT_WRONG: "Message failed to send due to an unknown error.",
}


def title_of(code: int) -> str:
    return TITLES.get(code, "Something went wrong")


def fbtrace_id() -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    return "A" + "".join(secrets.choice(alphabet) for _ in range(22))


class GraphError(Exception):
    """An error answer of the Graph API, raised inside request handlers."""

    def __init__(
        self,
        code: int,
        details: str | None = None,
        *,
        status: int = 400,
        message: str | None = None,
        type: str = "OAuthException",
        subcode: int | None = None,
    ) -> None:
        self.code = code
        self.details = details if details is not None else DETAILS.get(code, title_of(code))
        self.status = status
        self.type = type
        self.subcode = subcode
        if message is None:
            message = title_of(code) if code == INVALID_TOKEN else f"(#{code}) {title_of(code)}"
        self.message = message
        super().__init__(f"{message}: {self.details}")

    def payload(self) -> JSON:
        error: JSON = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        error["fbtrace_id"] = fbtrace_id()
        return {"error": error}

    def response(self) -> web.Response:
        return web.json_response(self.payload(), status=self.status)


def invalid(details: str) -> GraphError:
    """131009: a parameter is present but its value is not allowed."""
    return GraphError(INVALID_VALUE, details)


def missing(path: str) -> GraphError:
    """131008: a parameter inside the message is missing."""
    return GraphError(MISSING_PARAMETER, f"The parameter {path} is required.")


def bad_envelope(details: str) -> GraphError:
    """100: the request itself (messaging_product, to, type...) is wrong."""
    return GraphError(INVALID_PARAMETER, details, message=f"(#100) {details}")


def unknown_object(object_id: str) -> GraphError:
    return GraphError(
        INVALID_PARAMETER,
        type="GraphMethodException",
        subcode=33,
        message=f"Unsupported post request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
        details=f"Object with ID '{object_id}' does not exist",
    )


def status_error(code: int, details: str | None = None) -> JSON:
    """The ``errors`` entry of a failed status webhook."""
    return {
        "code": code,
        "title": title_of(code),
        "message": title_of(code),
        "error_data": {"details": details or DETAILS.get(code, title_of(code))},
        "href": ERROR_CODES_URL,
    }
