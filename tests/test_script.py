"""Script validation: good scripts load; each bad one names the file, step and problem."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from conversations.flow.callbacks import MAX_BYTES
from conversations.flow.script import Script, ScriptError, Text
from conversations.flow.script_toml import load_script, parse_script

MINIMAL = """
slug = "mini"
area = "Testshire"
title = "A test"
[consent]
version = "1"
text = "OK?"
agree = "Yes"
decline = "No"
declined = "Bye"
[[steps]]
id = "need"
kind = "text"
text = "What makes life harder?"
"""


def with_steps(steps: str, top: str = "") -> str:
    head, _, _ = MINIMAL.partition("[[steps]]")
    return top + head + steps


def test_example_script_loads(example_script) -> None:  # type: ignore[no-untyped-def]
    assert example_script.slug == "example"
    assert example_script.languages == ("en", "cy", "pl", "ur")
    kinds = {s.kind for s in example_script.steps}
    assert kinds == {"message", "choice", "text", "reflect", "loop", "end"}
    assert set(example_script.population) == {"area", "age_band"}


def test_every_step_and_option_id_fits_telegram_button_data(example_script) -> None:  # type: ignore[no-untyped-def]
    for step in example_script.steps:
        for option in step.options:
            assert len(f"a:{step.id}:999:{option.id}".encode()) <= MAX_BYTES


def test_minimal_script_loads() -> None:
    script = parse_script(MINIMAL, "mini.toml")
    assert script.step("need").kind == "text"
    assert script.default_language == "en"


BAD = [
    ("not toml", "slug = ", "file", "not valid TOML"),
    ("unknown top key", "colour = 'red'\n" + MINIMAL, "colour", "unknown key"),
    ("bad slug", MINIMAL.replace('slug = "mini"', 'slug = "Mini Slug"'), "slug", "lower-case"),
    ("no consent", MINIMAL.replace("[consent]", "[other]"), "other", "unknown key"),
    ("no steps", MINIMAL.partition("[[steps]]")[0], "steps", "at least one"),
    (
        "unknown kind",
        with_steps('[[steps]]\nid = "a"\nkind = "dance"\ntext = "x"\n'),
        "step 'a'",
        "'kind' must be one of",
    ),
    (
        "duplicate id",
        with_steps(
            '[[steps]]\nid = "a"\nkind = "text"\ntext = "x"\n[[steps]]\nid = "a"\nkind = "text"\ntext = "y"\n'
        ),
        "step 'a'",
        "used by an earlier step",
    ),
    (
        "id too long",
        with_steps(
            '[[steps]]\nid = "a-very-long-step-identifier-indeed"\nkind = "text"\ntext = "x"\n'
        ),
        "step #1",
        "1-24",
    ),
    (
        "choice with one option",
        with_steps(
            '[[steps]]\nid = "c"\nkind = "choice"\ntext = "x"\noptions = [{id = "a", label = "A"}]\n'
        ),
        "step 'c'",
        "at least two",
    ),
    (
        "next to nowhere",
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext = "x"\nnext = "zzz"\n'),
        "step 'a'",
        "next 'zzz' is not a step id",
    ),
    (
        "option next to nowhere",
        with_steps(
            '[[steps]]\nid = "c"\nkind = "choice"\ntext = "x"\n'
            'options = [{id = "a", label = "A", next = "gone"}, {id = "b", label = "B"}]\n'
        ),
        "step 'c'",
        "option 'a' next 'gone'",
    ),
    (
        "missing translation",
        with_steps(
            '[[steps]]\nid = "a"\nkind = "text"\ntext = { en = "x" }\n',
            'languages = ["en", "cy"]\n',
        ).replace('title = "A test"', 'title = { en = "T", cy = "T" }'),
        "consent",
        "no text in cy",
    ),
    (
        "reflect of a later step",
        with_steps(
            '[[steps]]\nid = "r"\nkind = "reflect"\ntext = "x"\nitems = [{step = "n", label = "N"}]\n'
            '[[steps]]\nid = "n"\nkind = "text"\ntext = "x"\n'
        ),
        "step 'r'",
        "comes after the reflect step",
    ),
    (
        "loop back to a later step",
        with_steps(
            '[[steps]]\nid = "l"\nkind = "loop"\ntext = "again?"\nback_to = "n"\n'
            '[[steps]]\nid = "n"\nkind = "text"\ntext = "x"\n'
        ),
        "step 'l'",
        "must come before the loop",
    ),
    (
        "loop cap out of range",
        with_steps(
            '[[steps]]\nid = "n"\nkind = "text"\ntext = "x"\n'
            '[[steps]]\nid = "l"\nkind = "loop"\ntext = "again?"\nback_to = "n"\nmax = 99\n'
        ),
        "step 'l'",
        "'max' must be a whole number",
    ),
    (
        "population of an unknown option",
        with_steps(
            '[[steps]]\nid = "area"\nkind = "choice"\nprofile = "area"\ntext = "x"\n'
            'options = [{id = "a", label = "A"}, {id = "b", label = "B"}]\n'
            "[population.area]\na = 0.5\nz = 0.5\n"
        ),
        "population.area",
        "'z' is not an option",
    ),
    (
        "population shares not adding up",
        with_steps(
            '[[steps]]\nid = "area"\nkind = "choice"\nprofile = "area"\ntext = "x"\n'
            'options = [{id = "a", label = "A"}, {id = "b", label = "B"}]\n'
            "[population.area]\na = 0.5\nb = 0.2\n"
        ),
        "population.area",
        "add up to 0.700",
    ),
    (
        "end step that leads on",
        with_steps('[[steps]]\nid = "e"\nkind = "end"\ntext = "bye"\nnext = "e"\n'),
        "step 'e'",
        "cannot lead anywhere",
    ),
    (
        "unknown step key",
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext = "x"\ncolour = "red"\n'),
        "step 'a'",
        "unknown key 'colour'",
    ),
    (
        "per-channel text for an unknown channel",
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext.en = "x"\ntext.sms = "y"\n'),
        "step 'a'",
        "'text' has key 'sms': not a language or channel (en, telegram, web)",
    ),
    (
        "per-channel text in a language the script lacks",
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext.en = "x"\ntext.web.fr = "y"\n'),
        "step 'a'",
        "'text.web' has key 'fr'",
    ),
    (
        "per-channel text missing a language",
        'languages = ["en", "cy"]\nslug = "mini"\narea = "T"\ntitle = { en = "T", cy = "T" }\n'
        '[consent]\nversion = "1"\ntext = { en = "OK?", cy = "Iawn?" }\n'
        'agree = { en = "Yes", cy = "Ydw" }\ndecline = { en = "No", cy = "Na" }\n'
        'declined = { en = "Bye", cy = "Hwyl" }\n'
        '[[steps]]\nid = "a"\nkind = "text"\ntext = { en = "x", cy = "y", web.en = "z" }\n',
        "step 'a'",
        "'text.web' has no text in cy",
    ),
    (
        "per-channel text that is not text",
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext.en = "x"\ntext.web = 3\n'),
        "step 'a'",
        "'text.web' must be a string or a table of languages",
    ),
    (
        "per-channel consent text that is empty",
        MINIMAL.replace('declined = "Bye"', 'declined = { en = "Bye", web = " " }'),
        "consent",
        "'declined.web.en' must be a non-empty string",
    ),
    (
        "a channel named as a language",
        'languages = ["en", "web"]\n' + MINIMAL,
        "languages",
        "name channels, not languages",
    ),
]


@pytest.mark.parametrize(("name", "source", "where", "problem"), BAD, ids=[b[0] for b in BAD])
def test_bad_script_names_file_step_and_problem(
    name: str, source: str, where: str, problem: str
) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(source, "council/bad.toml")
    message = str(caught.value)
    assert message.startswith("council/bad.toml: "), message
    assert caught.value.where == where, message
    assert problem in caught.value.problem, message


def test_unreadable_and_non_utf8_files(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match=r"missing\.toml: file: cannot be read"):
        load_script(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(MINIMAL.replace("A test", "Caf\xe9").encode("latin-1"))
    with pytest.raises(ScriptError, match="is not UTF-8"):
        load_script(latin)


def test_example_is_valid_toml_with_every_language_everywhere() -> None:
    path = (
        Path(__file__).resolve().parent.parent
        / "conversations"
        / "flow"
        / "scripts"
        / "example.toml"
    )
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    for step in document["steps"]:
        languages = set(document["languages"])
        assert languages == {"en", "cy", "pl", "ur"}
        assert set(step["text"]) - {"web", "telegram"} == languages, step["id"]
        for channel in {"web", "telegram"} & set(step["text"]):
            assert set(step["text"][channel]) == languages, (step["id"], channel)


COMMAND = re.compile(r"(?<![\w/])/(start|stop|mydata|forget|help|language)\b")


def _texts(script: Script) -> list[tuple[str, Text]]:
    consent = script.consent
    found = [("consent", consent.text), ("declined", consent.declined)]
    for step in (*script.steps, *script.prioritise):
        found.append((step.id, step.text))
        found += [(f"{step.id}/{o.id}", o.label) for o in step.options]
    return found


def test_the_example_words_each_channel_its_own_way(example_script) -> None:  # type: ignore[no-untyped-def]
    """The web chat has no commands and cannot send messages later: its texts say neither."""
    for where, text in _texts(example_script):
        for language in example_script.languages:
            web = text.get(language, "en", "web")
            assert not COMMAND.search(web), (where, language, web)
            assert "tell you here" not in web and "dweud wrthych yma" not in web, where
    thanks = example_script.step("thanks").text
    assert "/mydata" in thanks.get("en", "en", "telegram") == thanks.get("en", "en")
    assert "“See my data”" in thanks.get("en", "en", "web")
    assert "“Gweld fy nata”" in thanks.get("cy", "en", "web")


def test_a_text_without_a_channel_wording_is_the_same_everywhere() -> None:
    script = parse_script(
        with_steps('[[steps]]\nid = "a"\nkind = "text"\ntext.en = "x"\ntext.web = "on the web"\n'),
        "mini.toml",
    )
    text = script.step("a").text
    assert text.get("en", "en") == text.get("en", "en", "telegram") == "x"
    assert text.get("en", "en", "web") == "on the web"


def test_every_script_key_is_documented() -> None:
    """The reference stays true: each key the validator accepts is in it."""
    from conversations.flow.script_toml import STEP_KEYS, TOP_KEYS

    reference = (Path(__file__).resolve().parent.parent / "docs" / "script-reference.md").read_text(
        encoding="utf-8"
    )
    for key in sorted(STEP_KEYS | TOP_KEYS):
        assert f"`{key}`" in reference, f"{key} is not in docs/script-reference.md"
    for key in ("version", "agree", "decline", "declined", "exclusive", "label"):
        assert f"`{key}`" in reference


@pytest.mark.parametrize("slug", ["bus--routes", "buses-", "a--", "buses\n"])
def test_a_slug_that_would_break_partner_links_is_refused_at_load(slug: str) -> None:
    # A deep link is SLUG--SOURCE: "bus--routes" would join consultation "bus".
    source = MINIMAL.replace('slug = "mini"', f"slug = {slug!r}".replace("'", '"'))
    with pytest.raises(ScriptError) as caught:
        parse_script(source, "council/bus.toml")
    assert str(caught.value).startswith("council/bus.toml: slug: "), caught.value
    assert parse_script(MINIMAL.replace('"mini"', '"bus-routes"'), "ok.toml").slug == "bus-routes"
