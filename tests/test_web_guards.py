"""Safe by default: every route that can change something passes its declared guard first.

The tests walk the application's router rather than a list of paths, so a route
added later is covered without being named here: an unsafe route must declare a
guard this file knows how to test, and a staff page must refuse anyone not signed in.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_urldispatcher import AbstractRoute
from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.staff_access import create_login_link
from bot.config import Config, roles_in
from bot.web.app import build_web_app
from bot.web.auth import COOKIE as STAFF_COOKIE
from bot.web.guards import SAFE_METHODS, Guard, guard_of, staff_form, staff_post
from tests.web_helpers import ADMIN, FACILITATOR, OFFICER, SAFEGUARDING, parse, sign_in, web_config

STAFF = (FACILITATOR, OFFICER, ADMIN, SAFEGUARDING)
# Routes whose handler checks a credential of its own, and the test that shows it does.
EXEMPT = {
    "/telegram/webhook": "tests/test_web_security.py::test_the_webhook_needs_the_secret",
    "/whatsapp/webhook": (
        "tests/test_whatsapp.py::test_forged_and_malformed_calls_are_refused_and_store_nothing"
    ),
}
# Staff pages anyone may see: the sign-in link's page, "signed out", and /staff's redirect.
OPEN_STAFF_PAGES = {"/staff", "/staff/login", "/staff/login/{token}", "/staff/signed-out"}
NOT_SIGNED_IN = "needsfirst login"
NO_ROLE = "this needs one of the roles"
EXPIRED_FORM = "this form has expired"
NO_DEVICE = "your session has expired"
OTHER_SITE = "sign in from the link itself"
GUARD_REFUSALS = (NOT_SIGNED_IN, NO_ROLE, EXPIRED_FORM, NO_DEVICE, OTHER_SITE)


@asynccontextmanager
async def served(
    db: Engine, app: web.Application
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    async with TestClient(TestServer(app)) as client:
        yield client


def path_of(route: AbstractRoute, db: Engine, config: Config) -> str:
    """A path this route answers, with plausible values in its variables."""
    resource = route.resource
    assert resource is not None
    info = resource.get_info()
    if "path" in info:
        return str(info["path"])
    names = re.findall(r"{(\w+)}", str(info["formatter"]))
    values = {"slug": "example", "fmt": "csv"}
    if "token" in names:  # a sign-in link's: a fresh one each time, as it works once
        values["token"] = create_login_link(db, config, FACILITATOR).rsplit("/", 1)[1]
    path = str(info["formatter"]).format(**{name: values.get(name, "1") for name in names})
    assert info["pattern"].fullmatch(path), f"give {route.resource.canonical} a value that fits"  # type: ignore[union-attr]
    return path


def unsafe_routes(app: web.Application) -> list[AbstractRoute]:
    return [route for route in app.router.routes() if route.method not in SAFE_METHODS]


def guarded_as(app: web.Application, kind: str) -> list[tuple[AbstractRoute, Guard]]:
    """The unsafe routes whose guard is of this kind, with their guards (one at least)."""
    found = [(route, guard_of(route.handler)) for route in unsafe_routes(app)]
    chosen = [(route, guard) for route, guard in found if guard is not None and guard.kind == kind]
    assert chosen, f"no {kind} route"
    return chosen


async def test_a_route_that_declares_no_guard_is_refused(db: Engine) -> None:
    config = web_config()
    app = build_web_app(db, config)
    ran: list[str] = []

    async def undeclared(request: web.Request) -> web.Response:
        ran.append(request.method)
        return web.Response(text="done")

    @staff_form("admin")
    async def declared(request: web.Request) -> web.Response:
        staff, _ = staff_post(request)
        return web.Response(text=f"done by {staff.actor}")

    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        app.router.add_route(method, "/staff/undeclared", undeclared)
    app.router.add_post("/staff/declared", declared)
    async with served(db, app) as client:
        csrf = await sign_in(client, db, config, ADMIN)
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = await client.request(method, "/staff/undeclared", data={"csrf": csrf})
            assert response.status == 403, method
        assert ran == []
        assert (await client.get("/staff/undeclared")).status == 200  # safe methods pass
        done = await client.post("/staff/declared", data={"csrf": csrf})
        assert done.status == 200 and await done.text() == f"done by staff:{ADMIN}"
        assert (await client.post("/staff/declared", data={})).status == 403
        assert (await client.post("/nowhere", data={})).status == 404  # the router's own


async def test_every_unsafe_route_declares_a_guard(db: Engine) -> None:
    app = build_web_app(db, web_config())
    routes = unsafe_routes(app)
    assert len(routes) >= 17
    for route in routes:
        guard = guard_of(route.handler)
        assert guard is not None, f"{route.method} {route.resource.canonical} declares no guard"  # type: ignore[union-attr]
        assert guard.kind in ("staff", "resident", "sign-in", "exempt"), guard.kind
        if guard.kind == "exempt":
            assert guard.reason and route.resource.canonical in EXEMPT  # type: ignore[union-attr]
        if guard.kind == "staff":
            assert guard.roles, route.resource.canonical  # type: ignore[union-attr]


async def test_every_staff_form_needs_a_session_a_role_and_the_csrf_token(db: Engine) -> None:
    config = web_config()
    app = build_web_app(db, config)
    async with served(db, app) as client:
        for route, guard in guarded_as(app, "staff"):
            path = path_of(route, db, config)
            client.session.cookie_jar.clear()
            refused = await client.request(route.method, path, data={}, allow_redirects=False)
            assert refused.status == 401 and NOT_SIGNED_IN in await refused.text(), path
            for staff_id in STAFF:
                client.session.cookie_jar.clear()
                csrf = await sign_in(client, db, config, staff_id)
                if not guard.roles & roles_in(config.staff, staff_id):
                    response = await client.request(route.method, path, data={"csrf": csrf})
                    assert response.status == 403 and NO_ROLE in await response.text(), path
                    continue
                for wrong in ({}, {"csrf": ""}, {"csrf": csrf[:-1]}, {"csrf": "x" * 43}):
                    response = await client.request(route.method, path, data=wrong)
                    assert response.status == 403, (path, wrong)
                    assert EXPIRED_FORM in await response.text(), path
                passed = await client.request(
                    route.method, path, data={"csrf": csrf}, allow_redirects=False
                )
                text = await passed.text()
                assert passed.status != 401 and not any(r in text for r in GUARD_REFUSALS), path


async def test_every_resident_form_needs_the_device_and_its_csrf_token(db: Engine) -> None:
    app = build_web_app(db, web_config())
    async with served(db, app) as client:
        for route, _ in guarded_as(app, "resident"):
            path = path_of(route, db, web_config())
            client.session.cookie_jar.clear()
            refused = await client.request(route.method, path, data={}, allow_redirects=False)
            assert refused.status == 403 and NO_DEVICE in await refused.text(), path
            page = parse(await (await client.get("/c/example")).text())
            csrf = page.forms[0].fields["csrf"]
            for wrong in ({}, {"csrf": ""}, {"csrf": csrf[:-1]}):
                response = await client.request(route.method, path, data=wrong)
                assert response.status == 403 and EXPIRED_FORM in await response.text(), path
            passed = await client.request(
                route.method, path, data={"csrf": csrf}, allow_redirects=False
            )
            assert passed.status != 403, path


async def test_every_sign_in_form_refuses_another_site(db: Engine) -> None:
    config = web_config()
    app = build_web_app(db, config)
    async with served(db, app) as client:
        for route, _ in guarded_as(app, "sign-in"):
            path = path_of(route, db, config)
            for headers in ({"Origin": "https://attacker.example"},
                            {"Sec-Fetch-Site": "cross-site"}):  # fmt: skip
                response = await client.request(route.method, path, headers=headers)
                assert response.status == 403 and OTHER_SITE in await response.text(), path
            own = str(client.make_url("")).rstrip("/")
            passed = await client.request(
                route.method, path, headers={"Origin": own}, allow_redirects=False
            )
            # Past the guard: the handler's own answer (a link's sign-in redirects; the
            # email form answers with a page), never the guard's refusal.
            answer = await passed.text()
            assert passed.status != 403, path
            assert not any(refusal in answer for refusal in GUARD_REFUSALS), path


async def test_every_staff_page_needs_sign_in(db: Engine) -> None:
    config = web_config()
    app = build_web_app(db, config)
    async with served(db, app) as client:
        pages = [
            route
            for route in app.router.routes()
            if route.method == "GET"
            and route.resource is not None
            and route.resource.canonical.startswith("/staff")
            and route.resource.canonical not in OPEN_STAFF_PAGES
        ]
        assert len(pages) >= 15
        for route in pages:
            path = path_of(route, db, config)
            response = await client.get(path, allow_redirects=False)
            assert response.status == 401, path
            assert NOT_SIGNED_IN in await response.text(), path
        client.session.cookie_jar.update_cookies({STAFF_COOKIE: "forged-session-token"})
        for route in pages:
            assert (await client.get(path_of(route, db, config))).status == 401
