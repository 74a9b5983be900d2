"""What the Graph API refuses in a message: the envelope, then each type's own limits.

The envelope (messaging_product, to, type) is refused with code 100, as Graph refuses
any malformed request; inside a message, a missing field is 131008 and a value out of
bounds 131009; templates have their own codes (132000, 132001, 132005, 132018...).
Field names in ``details`` are written the way Graph writes them:
``interactive['action']['buttons'][0]['reply']['title']``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from tests.fakes.whatsapp_api.errors import (
    MEDIA_UPLOAD_ERROR,
    TEMPLATE_DISABLED,
    TEMPLATE_MISSING,
    TEMPLATE_PARAM_COUNT,
    TEMPLATE_PARAM_FORMAT,
    TEMPLATE_PAUSED,
    TEMPLATE_TOO_LONG,
    GraphError,
    bad_envelope,
    invalid,
    missing,
)
from tests.fakes.whatsapp_api.records import JSON, Media, Sent, Template

MAX_TEXT: Final = 4096
MAX_BUTTON_BODY: Final = 1024
MAX_LIST_BODY: Final = 4096
MAX_HEADER: Final = 60
MAX_FOOTER: Final = 60
MAX_BUTTONS: Final = 3
MAX_BUTTON_ID: Final = 256
MAX_BUTTON_TITLE: Final = 20
MAX_LIST_BUTTON: Final = 20
MAX_SECTIONS: Final = 10
MAX_ROWS: Final = 10
MAX_ROW_ID: Final = 200
MAX_ROW_TITLE: Final = 24
MAX_ROW_DESCRIPTION: Final = 72
MAX_SECTION_TITLE: Final = 24
MAX_CAPTION: Final = 1024
MAX_TEMPLATE_TEXT: Final = 1024
TYPES: Final = ("text", "interactive", "template", "document")
PHONE: Final = re.compile(r"^\d{8,15}$")
BAD_TEMPLATE_PARAM: Final = re.compile(r"[\n\t]| {5,}")

TemplateLookup = Callable[[str, str], Template | None]
MediaLookup = Callable[[str], Media | None]


def envelope(body: Any) -> tuple[str, str]:
    """The recipient and the type of a message request, or a code-100 error."""
    if not isinstance(body, dict) or "messaging_product" not in body:
        raise bad_envelope("The parameter messaging_product is required.")
    product = body["messaging_product"]
    if product != "whatsapp":
        raise bad_envelope(
            f'Param messaging_product must be one of {{WHATSAPP}} - got "{product}".'
        )
    recipient_type = body.get("recipient_type", "individual")
    if recipient_type != "individual":
        raise bad_envelope(
            f'Param recipient_type must be one of {{INDIVIDUAL}} - got "{recipient_type}".'
        )
    if "to" not in body:
        raise bad_envelope("The parameter to is required.")
    to = body["to"]
    if not isinstance(to, str) or not PHONE.match(to):
        raise bad_envelope(
            f"Param to must be a phone number of 8 to 15 digits (no '+', spaces or dashes) - got {to!r}."
        )
    if "type" not in body:
        raise bad_envelope("The parameter type is required.")
    kind = body["type"]
    if kind not in TYPES:
        raise bad_envelope(
            f"Param type must be one of {{{', '.join(t.upper() for t in TYPES)}}} - got {kind!r}."
        )
    return to, kind


def message(
    body: JSON, to: str, kind: str, *, wamid: str, now: float,
    templates: TemplateLookup, media: MediaLookup,
) -> Sent:  # fmt: skip
    """The message a valid request sends, or the Graph error that refuses it."""
    content = obj(body, kind, kind)
    sent = Sent(wamid=wamid, to=to, type=kind, time=now, text="", payload=body)
    context = body.get("context")
    if context is not None:
        reply_to = obj(context, "message_id", "context").get("message_id")
        sent.context = text(reply_to, "context['message_id']", 1, 512)
    if kind == "text":
        sent.text = text(content.get("body"), "text['body']", 1, MAX_TEXT)
        preview = content.get("preview_url", False)
        if not isinstance(preview, bool):
            raise invalid("Param text['preview_url'] must be a boolean.")
        sent.preview_url = preview
    elif kind == "interactive":
        _interactive(content, sent)
    elif kind == "template":
        _template(content, sent, templates)
    else:
        _document(content, sent, media)
    return sent


# -- field helpers -------------------------------------------------------------------


def obj(parent: Any, key: str, path: str) -> JSON:
    """parent[key] as an object: 131008 if absent, 131009 if not an object."""
    if not isinstance(parent, dict) or key not in parent or parent[key] is None:
        raise missing(path)
    value = parent[key]
    if not isinstance(value, dict):
        raise invalid(f"Param {path} must be a JSON object.")
    return value


def text(value: Any, path: str, low: int, high: int) -> str:
    if value is None:
        raise missing(path)
    if not isinstance(value, str):
        raise invalid(f"Param {path} must be a string.")
    if not low <= len(value) <= high or (low > 0 and not value.strip()):
        raise invalid(f"Param {path} must be between {low} and {high} characters long.")
    return value


def optional_text(parent: JSON, key: str, path: str, high: int) -> str | None:
    if parent.get(key) is None:
        return None
    return text(parent[key], path, 1, high)


def array(value: Any, path: str, low: int, high: int) -> list[Any]:
    if value is None:
        raise missing(path)
    if not isinstance(value, list):
        raise invalid(f"Param {path} must be an array.")
    if not low <= len(value) <= high:
        raise invalid(f"Param {path} must have between {low} and {high} elements.")
    return value


def _unique(values: list[str], what: str, path: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise invalid(f"{what} must be unique: {value!r} appears twice in {path}.")
        seen.add(value)


# -- interactive ---------------------------------------------------------------------


def _interactive(content: JSON, sent: Sent) -> None:
    kind = content.get("type")
    if kind is None:
        raise missing("interactive['type']")
    if kind not in ("button", "list"):
        raise invalid(f"Param interactive['type'] must be one of {{BUTTON, LIST}} - got {kind!r}.")
    sent.interactive = kind
    body_limit = MAX_BUTTON_BODY if kind == "button" else MAX_LIST_BODY
    body = obj(content, "body", "interactive['body']")
    sent.text = text(body.get("text"), "interactive['body']['text']", 1, body_limit)
    if content.get("header") is not None:
        header = obj(content, "header", "interactive['header']")
        if header.get("type") != "text":
            raise invalid("Param interactive['header']['type'] must be TEXT (this fake "
                          "supports text headers only).")  # fmt: skip
        sent.header = text(header.get("text"), "interactive['header']['text']", 1, MAX_HEADER)
    if content.get("footer") is not None:
        footer = obj(content, "footer", "interactive['footer']")
        sent.footer = text(footer.get("text"), "interactive['footer']['text']", 1, MAX_FOOTER)
    action = obj(content, "action", "interactive['action']")
    if kind == "button":
        sent.buttons = _buttons(action)
    else:
        _list(action, sent)


def _buttons(action: JSON) -> tuple[tuple[str, str], ...]:
    path = "interactive['action']['buttons']"
    buttons = array(action.get("buttons"), path, 1, MAX_BUTTONS)
    found: list[tuple[str, str]] = []
    for index, button in enumerate(buttons):
        where = f"{path}[{index}]"
        if not isinstance(button, dict):
            raise invalid(f"Param {where} must be a JSON object.")
        if button.get("type") != "reply":
            raise invalid(f"Param {where}['type'] must be one of {{REPLY}}.")
        reply = obj(button, "reply", f"{where}['reply']")
        button_id = text(reply.get("id"), f"{where}['reply']['id']", 1, MAX_BUTTON_ID)
        title = text(reply.get("title"), f"{where}['reply']['title']", 1, MAX_BUTTON_TITLE)
        found.append((button_id, title))
    _unique([i for i, _ in found], "Button ids", path)
    _unique([t for _, t in found], "Button titles", path)
    return tuple(found)


def _list(action: JSON, sent: Sent) -> None:
    sent.list_button = text(action.get("button"), "interactive['action']['button']", 1,
                            MAX_LIST_BUTTON)  # fmt: skip
    path = "interactive['action']['sections']"
    sections = array(action.get("sections"), path, 1, MAX_SECTIONS)
    rows: list[tuple[str, str]] = []
    for index, section in enumerate(sections):
        where = f"{path}[{index}]"
        if not isinstance(section, dict):
            raise invalid(f"Param {where} must be a JSON object.")
        if len(sections) > 1 and section.get("title") is None:
            raise missing(f"{where}['title']")
        optional_text(section, "title", f"{where}['title']", MAX_SECTION_TITLE)
        for number, row in enumerate(array(section.get("rows"), f"{where}['rows']", 1, MAX_ROWS)):
            at = f"{where}['rows'][{number}]"
            if not isinstance(row, dict):
                raise invalid(f"Param {at} must be a JSON object.")
            row_id = text(row.get("id"), f"{at}['id']", 1, MAX_ROW_ID)
            rows.append((row_id, text(row.get("title"), f"{at}['title']", 1, MAX_ROW_TITLE)))
            description = optional_text(row, "description", f"{at}['description']",
                                        MAX_ROW_DESCRIPTION)  # fmt: skip
            if description is not None:
                sent.row_descriptions[row_id] = description
    if len(rows) > MAX_ROWS:
        raise invalid(f"Param {path} must have at most {MAX_ROWS} rows in total, got {len(rows)}.")
    _unique([i for i, _ in rows], "Row ids", path)
    sent.rows = tuple(rows)


# -- templates -----------------------------------------------------------------------


def _template(content: JSON, sent: Sent, templates: TemplateLookup) -> None:
    name = text(content.get("name"), "template['name']", 1, 512)
    language = obj(content, "language", "template['language']")
    code = text(language.get("code"), "template['language']['code']", 1, 15)
    policy = language.get("policy", "deterministic")
    if policy != "deterministic":
        raise invalid("Param template['language']['policy'] must be one of {DETERMINISTIC}.")
    template = templates(name, code)
    if template is None:
        raise GraphError(TEMPLATE_MISSING, f"template name ({name}) does not exist in {code}")
    if template.status == "PAUSED":
        raise GraphError(TEMPLATE_PAUSED, f"Template {name} is paused.")
    if template.status != "APPROVED":
        raise GraphError(TEMPLATE_DISABLED, f"Template {name} is {template.status.lower()}.")
    parameters: list[str] = []
    payloads: dict[int, str] = {}
    components = content.get("components") or []
    if not isinstance(components, list):
        raise invalid("Param template['components'] must be an array.")
    for index, component in enumerate(components):
        where = f"template['components'][{index}]"
        if not isinstance(component, dict):
            raise invalid(f"Param {where} must be a JSON object.")
        kind = component.get("type")
        if kind == "body":
            parameters.extend(_body_parameters(component.get("parameters"), where))
        elif kind == "button":
            index_, payload = _quick_reply(component, where, template)
            payloads[index_] = payload
        elif kind == "header":
            raise GraphError(TEMPLATE_PARAM_COUNT, "header: number of localizable_params (1) "
                             "does not match the expected number of params (0)")  # fmt: skip
        else:
            raise invalid(f"Param {where}['type'] must be one of {{BODY, BUTTON}} - got {kind!r}.")
    if len(parameters) != template.param_count:
        raise GraphError(TEMPLATE_PARAM_COUNT, f"body: number of localizable_params "
                         f"({len(parameters)}) does not match the expected number of params "
                         f"({template.param_count})")  # fmt: skip
    filled = template.fill(tuple(parameters))
    if len(filled) > MAX_TEMPLATE_TEXT:
        raise GraphError(TEMPLATE_TOO_LONG, f"The template body is {len(filled)} characters "
                         f"long with its parameters; at most {MAX_TEMPLATE_TEXT} are allowed.")  # fmt: skip
    sent.text = filled
    sent.template, sent.language, sent.parameters = name, code, tuple(parameters)
    sent.buttons = tuple(
        (payloads.get(i, title), title) for i, title in enumerate(template.buttons)
    )


def _body_parameters(value: Any, where: str) -> list[str]:
    found: list[str] = []
    for index, parameter in enumerate(array(value, f"{where}['parameters']", 0, 100)):
        at = f"{where}['parameters'][{index}]"
        if not isinstance(parameter, dict):
            raise invalid(f"Param {at} must be a JSON object.")
        if parameter.get("type") != "text":
            raise invalid(f"Param {at}['type'] must be TEXT (this fake supports text "
                          "parameters only).")  # fmt: skip
        value_ = text(parameter.get("text"), f"{at}['text']", 1, MAX_TEMPLATE_TEXT)
        if BAD_TEMPLATE_PARAM.search(value_):
            raise GraphError(TEMPLATE_PARAM_FORMAT, "Param text cannot have new-line/tab "
                             "characters or more than 4 consecutive spaces")  # fmt: skip
        found.append(value_)
    return found


def _quick_reply(component: JSON, where: str, template: Template) -> tuple[int, str]:
    if component.get("sub_type") != "quick_reply":
        raise invalid(f"Param {where}['sub_type'] must be QUICK_REPLY (the fake's templates "
                      "have quick replies only).")  # fmt: skip
    try:
        index = int(component.get("index", -1))
    except (TypeError, ValueError):
        index = -1
    if not 0 <= index < len(template.buttons):
        raise invalid(f"Param {where}['index'] must name one of the template's "
                      f"{len(template.buttons)} buttons.")  # fmt: skip
    parameters = array(component.get("parameters"), f"{where}['parameters']", 1, 1)
    parameter = parameters[0]
    if not isinstance(parameter, dict) or parameter.get("type") != "payload":
        raise invalid(f"Param {where}['parameters'][0]['type'] must be PAYLOAD.")
    return index, text(parameter.get("payload"), f"{where}['parameters'][0]['payload']", 1, 256)


# -- documents -----------------------------------------------------------------------


def _document(content: JSON, sent: Sent, media: MediaLookup) -> None:
    media_id, link = content.get("id"), content.get("link")
    if (media_id is None) == (link is None):
        raise invalid("Param document must have exactly one of id and link.")
    if media_id is not None:
        media_id = text(media_id, "document['id']", 1, 64)
        if media(media_id) is None:
            raise GraphError(MEDIA_UPLOAD_ERROR, f"document['id']: no media with ID "
                             f"'{media_id}' was uploaded for this phone number (or it expired)")  # fmt: skip
        sent.media_id = media_id
    elif not (isinstance(link, str) and link.startswith(("https://", "http://"))):
        raise invalid("Param document['link'] must be an http(s) URL.")
    sent.filename = optional_text(content, "filename", "document['filename']", 240)
    sent.text = optional_text(content, "caption", "document['caption']", MAX_CAPTION) or ""
