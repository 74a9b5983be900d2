"""Answers gathered elsewhere, imported: files read in every common form, columns mapped,
every bad row named with nothing written, and what is stored counted, screened, themed
and removable as a batch; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.imports import (
    ImportFailure,
    check_file,
    import_file,
    list_batches,
    preview_rows,
    remove_batch,
)
from conversations.staff import safeguarding_flags
from conversations.staff.coverage import round_status
from conversations.storage import store
from conversations.storage.models import (
    Answer,
    AuditEntry,
    ChannelIdentity,
    Conversation,
    ImportBatch,
    Resident,
    SafeguardingFlag,
)
from conversations.storage.scripts import ScriptCache

AREA = "Which part of the borough do you live in?"
AFFECTS = "Who else does this affect? Choose all that apply, then press Done."
HEADINGS = ["Timestamp", AREA, "Age", "need", AFFECTS, "Comments"]
MAPPING = {"Timestamp": "", "Comments": "difference"}
GOOD = [
    ["2026-11-02 10:00", "South", "35 to 64", "The buses stop at 7pm", "family, neighbours", ""],
    ["2026-11-02 10:05", "north", "65-plus", "Mould in the flat, call 07700 900123", "", "Dry"],
    ["2026-11-02 10:09", "", "", "No youth club since it closed", "Many people in the area", ""],
]


@pytest.fixture
def example(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    return db


def csv_bytes(rows: list[list[str]], *, headings: list[str] = HEADINGS, delimiter: str = ",",
              encoding: str = "utf-8") -> bytes:  # fmt: skip
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(headings)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], headings: list[str] = HEADINGS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(headings)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def count(db: Engine, model: type) -> int:
    with Session(db) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def stored_answers(db: Engine) -> dict[tuple[int, str], str]:
    """(row's resident order, question) -> value, of imported answers."""
    with Session(db) as session:
        rows = session.exec(
            select(Answer.resident_id, Answer.step_id, Answer.value)
            .where(col(Answer.import_batch_id).is_not(None))
            .order_by(col(Answer.resident_id))
        ).all()
    order = {r: i for i, r in enumerate(dict.fromkeys(r for r, _, _ in rows))}
    return {(order[r], step): value for r, step, value in rows}


def test_a_csv_is_imported_as_residents_of_a_named_source(example: Engine) -> None:
    checked = check_file(example, "example", csv_bytes(GOOD), "forms.csv",
                         source="Tenants-Association", mapping=MAPPING)  # fmt: skip
    assert checked.ok and checked.source == "tenants-association"
    assert [c.step_id for c in checked.plan.columns] == [
        None, "area", "age", "need", "affects", "difference"
    ]  # fmt: skip
    assert checked.plan.counts()["area"] == {"south": 1, "north": 1}
    # The preview scrubs personal details, as every quote shown to staff is.
    (_, second, _) = preview_rows(checked)
    assert "07700 900123" not in str(second.cells) and "Mould in the flat" in str(second.cells)

    batch = import_file(example, checked, actor="cli:test")
    assert (batch.rows, batch.answers, batch.source) == (3, 10, "tenants-association")
    assert stored_answers(example) == {
        (0, "area"): "south", (0, "age"): "35-64", (0, "need"): "The buses stop at 7pm",
        (0, "affects"): "family,neighbours",
        (1, "area"): "north", (1, "age"): "65-plus",
        (1, "need"): "Mould in the flat, call 07700 900123", (1, "difference"): "Dry",
        (2, "need"): "No youth club since it closed", (2, "affects"): "many",
    }  # fmt: skip
    with Session(example) as session:
        assert session.exec(select(Conversation.source).distinct()).all() == ["tenants-association"]
        conversations = session.exec(select(Conversation)).all()
        assert all(c.completed_at is not None for c in conversations)
        residents = session.exec(select(Resident)).all()
        assert {r.import_batch_id for r in residents} == {batch.id}
        assert not any(r.invitations for r in residents)  # no channel reaches them
        assert {i.channel for i in session.exec(select(ChannelIdentity))} == {"import"}
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "import.batch")).one()
        assert audit.actor == "cli:test" and audit.target == f"import:{batch.id}"
        assert "Mould" not in audit.detail  # never residents' words in the log

        # Coverage counts them by source and by channel, and by what they said of themselves.
        consultation = store.require_consultation(session=session, slug="example")
        round_ = store.current_round(session=session, consultation_id=consultation.id or 0)
        assert round_ is not None
        status = round_status(session=session, script=ScriptCache().get(consultation),
                              round_=round_, consultation_slug="example")  # fmt: skip
    assert (status.started, status.completed) == (3, 3)
    by_source = {g.group: g.respondents for g in status.coverage["source"]}
    by_channel = {g.label: g.respondents for g in status.coverage["channel"]}
    by_area = {g.group: g.respondents for g in status.coverage["area"]}
    assert by_source == {"tenants-association": 3} and by_channel == {"Imported": 3}
    assert (by_area["south"], by_area["north"], by_area["not-said"]) == (1, 1, 1)


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ";"), ("cp1252", ","), ("utf-16", "\t"), ("utf-8", "|")],
)
def test_every_common_encoding_and_delimiter_reads_alike(
    example: Engine, encoding: str, delimiter: str
) -> None:
    rows = [
        ["", "Central", "18 to 34", "Caf\u00e9 closed; rent is \u00a3900 \u2013 too much", "", ""]
    ]
    content = csv_bytes(rows, delimiter=delimiter, encoding=encoding)
    checked = check_file(example, "example", content, "partner.csv", source="cafe",
                         mapping=MAPPING)  # fmt: skip
    assert checked.ok, checked.plan.errors
    (row,) = checked.plan.rows
    assert {a.step_id: a.value for a in row.answers} == {
        "area": "central", "age": "18-34", "need": rows[0][3],
    }  # fmt: skip


def test_an_excel_workbook_reads_as_its_first_sheet(example: Engine) -> None:
    rows: list[list[object]] = [[None, "South (Marsh End, Brookvale)", "65 or over",
                                 "Buses stop at 7pm", "Older people, Disabled people or carers",
                                 None]]  # fmt: skip
    checked = check_file(example, "example", xlsx_bytes(rows), "survey.xlsx", source="survey",
                         mapping=MAPPING)  # fmt: skip
    assert checked.kind == "Excel workbook" and checked.ok, checked.plan.errors
    (row,) = checked.plan.rows
    assert {a.step_id: a.value for a in row.answers} == {
        "area": "south", "age": "65-plus", "need": "Buses stop at 7pm", "affects": "older,disabled"
    }  # fmt: skip
    import_file(example, checked, actor="staff:1")
    assert count(example, Answer) == 4


def test_a_workbook_that_declares_the_wrong_size_is_read_in_full(example: Engine) -> None:
    """Some tools write a sheet's size as A1 whatever it holds; read-only mode trusts it."""
    rows: list[list[object]] = [[None, "South", "18 to 34", "Buses", None, "Cheaper"]]
    archive = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as rewritten:
        for item in archive.infolist():
            data = archive.read(item)
            if item.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', data)
            rewritten.writestr(item, data)
    checked = check_file(example, "example", out.getvalue(), "tool.xlsx", source="tool",
                         mapping=MAPPING)  # fmt: skip
    assert checked.ok, checked.plan.errors
    assert [a.value for a in checked.plan.rows[0].answers] == ["south", "18-34", "Buses", "Cheaper"]


def test_every_bad_row_is_named_once_and_nothing_is_written(example: Engine) -> None:
    rows = [
        ["", "Soth", "", "Buses", "", ""],  # row 2: no such area
        GOOD[0],  # row 3: fine
        ["", "North", "", "", "", "Dry"],  # row 4: need left empty
        ["", "", "", "x" * 5000, "", ""],  # row 5: longer than the chat takes
        ["", "", "", "", "", ""],  # row 6: blank, passed over
        ["", "", "", "Lonely", "Mainly me, family", ""],  # row 7: "mainly me" goes alone
    ]
    checked = check_file(example, "example", csv_bytes(rows), "bad.csv", source="forms",
                         mapping=MAPPING)  # fmt: skip
    assert [str(e) for e in checked.plan.errors] == [
        "row 2, column 'Which part of the borough do you live in?': 'Soth' is not one of the "
        "options of 'area' (north, central, south, outside, prefer-not)",
        "row 4, column 'need': empty, and every row must answer 'need'",
        "row 5, column 'need': 5,000 characters: the chat takes at most 4,096",
        f"row 7, column '{AFFECTS}': 'just-me' goes alone, not with other options",
    ]
    assert checked.plan.bad_rows == [2, 4, 5, 7] and checked.plan.blank == 1
    with pytest.raises(ImportFailure, match="4 row\\(s\\) cannot be read: nothing was imported"):
        import_file(example, checked, actor="cli:test")
    for model in (ImportBatch, Resident, Conversation, Answer):
        assert count(example, model) == 0, model

    # Asked for explicitly, the good row goes in and the skipped ones are named.
    batch = import_file(example, checked, actor="cli:test", skip_bad_rows=True)
    assert batch.rows == 1
    with Session(example) as session:
        skipped = session.exec(select(AuditEntry).where(AuditEntry.action == "import.skip")).one()
    assert skipped.detail == "rows skipped: 2, 4, 5, 7"


def test_columns_that_fit_no_question_are_named(example: Engine) -> None:
    def problem(headings: list[str], mapping: dict[str, str]) -> str:
        content = csv_bytes([["a"] * len(headings)], headings=headings)
        with pytest.raises(ImportFailure) as raised:
            check_file(example, "example", content, "f.csv", source="s", mapping=mapping)
        return str(raised.value)

    said = problem(["need", "Postcode"], {})
    assert (
        "column 'Postcode' matches no question: map it ('Postcode=QUESTION') or leave it out"
        in said
    )
    assert "no column answers 'need'" in problem(["Area"], {})
    assert "there is no column 'Nope'" in problem(["need"], {"Nope": "area"})
    assert "the script has no question 'where'" in problem(["need", "Ward"], {"Ward": "where"})
    assert "both answer 'need'" in problem(["need", "Problem"], {"Problem": "need"})
    with pytest.raises(ImportFailure, match="not a name like tenants-association"):
        check_file(example, "example", b"need\nx\n", "f.csv", source="Tenants Assoc", mapping={})
    with pytest.raises(ImportFailure, match="old Excel file"):
        check_file(example, "example", b"\xd0\xcf\x11\xe0rest", "f.xls", source="s", mapping={})
    with pytest.raises(ImportFailure, match="not a readable Excel workbook"):
        check_file(example, "example", b"PK\x03\x04broken", "f.xlsx", source="s", mapping={})
    # By the question's words, whatever their case and punctuation; and in Welsh.
    content = b"NEED,ym mha ran o'r fwrdeistref ydych chi'n byw\nBuses,De\n"
    checked = check_file(example, "example", content, "f.csv", source="s", mapping={})
    assert [c.step_id for c in checked.plan.columns] == ["need", "area"]
    assert checked.plan.rows[0].answers[1].value == "south"


def test_a_disclosure_is_withheld_and_flagged_for_the_leads_as_imported(example: Engine) -> None:
    rows = [
        ["", "", "", "I am going to kill myself tonight", "", ""],
        ["", "", "", "The council are useless idiots and scum", "", ""],
        ["", "", "", "I live in Marsh End and the buses are bad", "", ""],
    ]
    checked = check_file(example, "example", csv_bytes(rows), "f.csv", source="forms",
                         mapping=MAPPING)  # fmt: skip
    assert [a.withheld for r in checked.plan.rows for a in r.answers] == [
        "safeguarding", "abuse", None
    ]  # fmt: skip
    assert "kill" not in str(preview_rows(checked))  # withheld: never shown, even here
    batch = import_file(example, checked, actor="staff:1")
    with Session(example) as session:
        (flag,) = session.exec(select(SafeguardingFlag)).all()
        assert (flag.channel, flag.import_batch_id, flag.status) == ("import", batch.id, "open")
        assert "suicide_self_harm" in flag.categories and "kill myself" in flag.excerpt
        # The leads are alerted about it as about any flag.
        added = safeguarding_flags.plan_deliveries(
            session=session, leads=["telegram:1"], fallback=[], escalate_after=timedelta(hours=1)
        )
        assert added == 1


def test_a_batch_is_removed_as_one_and_open_flags_stay_for_the_leads(example: Engine) -> None:
    first = import_file(example, check_file(example, "example", csv_bytes(GOOD), "a.csv",
                                            source="a", mapping=MAPPING), actor="staff:1")  # fmt: skip
    rows = [["", "", "", "He hits me and I am scared to go home", "", ""], GOOD[0]]
    second = import_file(example, check_file(example, "example", csv_bytes(rows), "b.csv",
                                             source="b", mapping=MAPPING), actor="staff:1")  # fmt: skip
    assert [s.batch.id for s in list_batches(example, "example")] == [second.id, first.id]
    assert second.id is not None
    removed = remove_batch(example, second.id, actor="staff:2", slug="example")
    assert (removed.residents, removed.answers, removed.flags_kept) == (2, 5, 1)
    with Session(example) as session:
        assert {r.import_batch_id for r in session.exec(select(Resident))} == {first.id}
        assert set(session.exec(select(Answer.import_batch_id)).all()) == {first.id}
        flag = session.exec(select(SafeguardingFlag)).one()
        assert flag.resident_id is None and flag.resident_forgotten
        assert flag.import_batch_id == second.id  # still says where it came from
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "import.remove")).one()
        assert audit.actor == "staff:2"
    listed = {s.batch.id: s for s in list_batches(example, "example")}
    assert listed[second.id].batch.removed_by == "staff:2" and listed[second.id].flags == 1
    with pytest.raises(store.StoreError, match="removed already"):
        remove_batch(example, second.id, actor="staff:2")
    with pytest.raises(store.StoreError, match="no import batch #999"):
        remove_batch(example, 999, actor="staff:2")
