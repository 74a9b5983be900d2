"""Numbers in staff URLs and forms, through the one parser (conversations.flow.numbers).

A URL whose id cannot name a record is a page that does not exist (404); a form
field that is not a usable number is a bad request (400). Never a 500.
"""

from __future__ import annotations

from aiohttp import web

from conversations.flow.numbers import record_id


def id_in_path(request: web.Request, name: str, what: str) -> int:
    """The id in the URL's `name` part; 404 "no such WHAT" when it cannot be one."""
    found = record_id(request.match_info.get(name))
    if found is None:
        raise web.HTTPNotFound(text=f"no such {what}")
    return found


def id_in_form(value: object, what: str) -> int:
    """An id a form sent; 400 naming the field when it cannot be one."""
    found = record_id(value)
    if found is None:
        raise web.HTTPBadRequest(text=f"{what} must be a record's number")
    return found
