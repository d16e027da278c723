"""Issue 11: never pay twice for the same person, by the sandbox's own books."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from lead_assets_tests.enrichment.conftest import lead_file


def statuses(engine, batch_key: str) -> list[tuple[str, list[str]]]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT status, reasons FROM qualified_leads WHERE batch_key = :k"),
            {"k": batch_key},
        ).all()
    return [(s, json.loads(r)) for s, r in rows]


def batches(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(text("SELECT batch_key FROM lead_batches ORDER BY batch_key"))
        ]


SAMPLES = Path(__file__).resolve().parents[2] / "samples"
EXPORTS = ("hubspot_contacts.csv", "salesforce_report_cp1252.csv", "sales_navigator_scrape.jsonl")


@pytest.mark.timeout(900)  # six batches end to end through both vendors: slow on a loaded machine
def test_redropping_the_same_people_under_new_names_spends_nothing(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The reproduction: the sample exports, then the same files again under new names."""
    p = pipeline_factory()
    for name in EXPORTS:
        p.drop(SAMPLES / name)
    assert all(ok for _, _, ok in p.drain())
    usd, credits = p.generect_charged, p.leedrush_charged
    assert usd > 0 and credits > 0
    first = batches(p.engine)
    for name in EXPORTS:
        renamed = tmp_path / f"again_{name}"
        renamed.write_bytes((SAMPLES / name).read_bytes())
        p.drop(renamed)
    assert all(ok for _, _, ok in p.drain())
    again = [b for b in batches(p.engine) if b not in first]
    assert len(again) == len(first) == len(EXPORTS)
    # The sandbox's own books: nothing more charged at either vendor.
    assert p.generect_charged == pytest.approx(usd)
    assert p.leedrush_charged == credits
    from lead_assets.pipeline.summary import batch_figures

    for key in again:
        rows = statuses(p.engine, key)
        # Every lead is an old one, except those the do-not-contact list still blocks.
        blocked = [r for s, r in rows if r and r[0].startswith("on the do-not-contact list")]
        delivered = [r for s, r in rows if s == "ALREADY_DELIVERED"]
        assert rows and len(delivered) + len(blocked) == len(rows)
        assert all(
            r[0].startswith("already_delivered in batch ") and r[0].split()[3] in first
            for r in delivered
        )
        figures = batch_figures(p.engine, key)
        assert figures["already_delivered"] == figures["ok"] - len(blocked)
        spend = figures["spend"]
        assert spend["settled_usd"] == 0 and spend["settled_credits"] == 0
        assert spend["unknown_usd"] == 0 and spend["unknown_credits"] == 0
    # What the re-drop avoided is reported: every Leedrush row the first drop paid for.
    saved = sum(batch_figures(p.engine, k)["spend"]["saved_credits"] for k in again)
    assert saved >= credits


FIRST = ["Robert", "William", "Elizabeth", "Richard", "Michael", "Jennifer", "Thomas", "Joseph"]
NICK = {"Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Richard": "Rick"}
NICK.update({"Michael": "Mike", "Jennifer": "Jen", "Thomas": "Tom", "Joseph": "Joe"})
LAST = [
    "Abbott", "Barlow", "Carver", "Dalton", "Ellison", "Fairley", "Garrick", "Hadley",
    "Ingram", "Jarvis", "Kendrick", "Langley", "Mercer", "Norwood", "Oakley", "Prescott",
    "Quinlan", "Radley", "Sutton", "Thorne", "Upton", "Vance", "Whitaker", "Yardley",
    "Ashford", "Brennan", "Colby", "Draper", "Eastwood", "Fenwick", "Gale", "Holloway",
    "Irwin", "Jessop", "Keller", "Lowry", "Marsh", "Nash", "Osborne", "Pryor",
]  # fmt: skip
HEADER = "First Name,Last Name,Email,Phone,Company,Website,Title,Country"


def person(i: int) -> dict[str, str]:
    """Person ``i`` as a CRM export has them: work mailbox, US phone, company site."""
    first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)] + ("" if i < len(LAST) else "son")
    k = i % 8
    domain = f"northwind{k}.io"
    return {
        "first": first,
        "last": last,
        "email": f"{first.lower()}.{last.lower()}@{domain}",
        "phone": f"+1 646 647 {9100 + i}",
        "company": f"Northwind {k} Inc.",
        "domain": domain,
    }


def row(
    p: dict[str, str], *, email: str | None = None, phone: str | None = None, first=None
) -> str:  # type: ignore[no-untyped-def]
    return ",".join(
        [
            first or p["first"],
            p["last"],
            p["email"] if email is None else email,
            p["phone"] if phone is None else phone,
            p["company"],
            p["domain"],
            "VP Sales",
            "USA",
        ]
    )


def overlapping_file(path: Path, people: range, new: range) -> Path:
    """Half earlier people, differently formatted; half new people."""
    lines = [HEADER]
    for n, i in enumerate(people):
        p = person(i)
        style = n % 4
        if style == 0:  # shouting case
            lines.append(
                row(p, email=p["email"].upper(), first=p["first"].upper()).replace(
                    p["last"], p["last"].upper()
                )
            )
        elif style == 1:  # another phone format
            digits = p["phone"].replace("+1 ", "").replace(" ", "")
            lines.append(row(p, phone=f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"))
        elif style == 2:  # a nickname, no mailbox
            lines.append(row(p, first=NICK[p["first"]], email=""))
        else:  # a personal mailbox instead of the work one
            lines.append(row(p, email=f"{p['first'].lower()}{p['last'].lower()}@gmail.com"))
    lines += [row(person(i)) for i in new]
    path.write_text("\n".join(lines) + "\n")
    return path


def plain_file(path: Path, people: range, *, without_email: range = range(0)) -> Path:
    lines = [HEADER]
    for i in people:
        p = person(i)
        lines.append(row(p, email="" if i in without_email else None))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_half_known_people_differently_formatted_are_not_bought_again(
    pipeline_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    p.drop(plain_file(tmp_path / "crm_week1.csv", range(0, 40), without_email=range(30, 40)))
    assert all(ok for _, _, ok in p.drain())
    before_usd, before_credits = p.generect_charged, p.leedrush_charged
    first = batches(p.engine)
    p.drop(overlapping_file(tmp_path / "merged_list.csv", range(0, 20), range(40, 60)))
    assert all(ok for _, _, ok in p.drain())
    (key,) = [b for b in batches(p.engine) if b not in first]
    with p.engine.connect() as conn:
        reused = dict(
            conn.execute(
                text(
                    "SELECT s.row_id, r.kind FROM lead_reuse r JOIN standardized_leads s ON"
                    " s.batch_key = r.batch_key AND s.row_id = r.row_id WHERE r.batch_key = :k"
                    " AND r.scope = 'person'"
                ),
                {"k": key},
            ).all()
        )
        lines = dict(
            conn.execute(
                text("SELECT row_id, line_no FROM raw_uploads WHERE batch_key = :k"), {"k": key}
            ).all()
        )
    reused_lines = {lines[r] for r in reused}
    # Data lines 2..21 are the earlier people, 22..41 the new ones: no new person is reused
    # (precision), and the matcher links the case, phone and nickname variants (15 of 20).
    assert reused_lines <= set(range(2, 22))
    assert len(reused_lines) >= 15 and set(reused.values()) == {"known_person"}
    # By the sandbox's books: what this file cost equals what a second warehouse pays for the
    # same first file and then only the leads the matcher did not recognise.
    spent_usd = p.generect_charged - before_usd
    spent_credits = p.leedrush_charged - before_credits
    source = (tmp_path / "merged_list.csv").read_text().splitlines()
    rest = [source[0]] + [
        line for n, line in enumerate(source[1:], start=2) if n not in reused_lines
    ]
    (tmp_path / "ref").mkdir()
    ref = pipeline_factory()
    ref.drop(
        plain_file(tmp_path / "ref" / "crm_week1.csv", range(0, 40), without_email=range(30, 40))
    )
    assert all(ok for _, _, ok in ref.drain())
    ref_usd, ref_credits = ref.generect_charged, ref.leedrush_charged
    assert (ref_usd, ref_credits) == (pytest.approx(before_usd), before_credits)
    (tmp_path / "ref" / "unrecognised.csv").write_text("\n".join(rest) + "\n")
    ref.drop(tmp_path / "ref" / "unrecognised.csv")
    assert all(ok for _, _, ok in ref.drain())
    assert spent_usd == pytest.approx(ref.generect_charged - ref_usd)
    assert spent_credits == ref.leedrush_charged - ref_credits
    assert spent_credits <= len(rest) - 1  # at most one credit per lead not recognised
    print(
        f"recognised {len(reused_lines)} of 20 earlier people; this file cost ${spent_usd:.4f}"
        f" + {spent_credits:g} credits (the first file: ${before_usd:.4f} + {before_credits:g})"
    )
    # The earlier people are reported already delivered; the summary carries what was saved.
    rows = statuses(p.engine, key)
    assert sum(s == "ALREADY_DELIVERED" for s, _ in rows) >= len(reused_lines)
    from lead_assets.pipeline.summary import batch_figures

    spend = batch_figures(p.engine, key)["spend"]
    assert spend["saved_credits"] >= len([r for r in reused_lines]) - 5  # reused leads w/o email
    assert spend["settled_credits"] == spent_credits


def test_two_copies_dropped_together_buy_each_person_once(pipeline_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    p = pipeline_factory()
    source = lead_file(tmp_path / "export.csv", 40, seed=23)
    copy = tmp_path / "export_from_the_other_tool.csv"
    copy.write_bytes(source.read_bytes())
    p.drop(source)
    p.drop(copy)
    assert all(ok for _, _, ok in p.drain())
    older, newer = batches(p.engine)
    with p.engine.connect() as conn:
        subs = dict(
            conn.execute(text("SELECT batch_key, rows_total FROM leedrush_submissions")).all()
        )
        usd_by_batch = dict(
            conn.execute(
                text(
                    "SELECT batch_key, SUM(amount) FROM spend_ledger WHERE state = 'settled'"
                    " AND unit = 'usd' GROUP BY batch_key"
                )
            ).all()
        )
    # The later batch reused the earlier one's people: it bought nothing from either vendor.
    assert subs[newer] == 0 and p.leedrush_charged == subs[older] > 0
    assert newer not in usd_by_batch
    assert p.generect_charged == pytest.approx(usd_by_batch[older])
    rows = statuses(p.engine, newer)
    assert rows and all(s == "ALREADY_DELIVERED" for s, _ in rows)
    # The reused leads carry the earlier batch's Leedrush results, copied at collect.
    with p.engine.connect() as conn:
        scores = conn.execute(
            text("SELECT COUNT(*) FROM leedrush_results WHERE batch_key = :k AND qualified"),
            {"k": newer},
        ).scalar_one()
        earlier_scores = conn.execute(
            text("SELECT COUNT(*) FROM leedrush_results WHERE batch_key = :k AND qualified"),
            {"k": older},
        ).scalar_one()
    assert scores == earlier_scores > 0
