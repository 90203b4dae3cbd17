"""Exports: XLSX, CSV for Danish Excel and the JSON API; no personal data, no small cells, text stays text."""
from __future__ import annotations

import csv
import io
import zipfile

from babel.numbers import format_decimal
from openpyxl import load_workbook
from sqlalchemy import select

from tests.reports.conftest import people_cell_key, visits_cell_key, year_args
from youthclub.extensions import db
from youthclub.models import AuditEvent
from youthclub.reports.disclosure import released_count
from youthclub.reports.services import FIGURE_LABELS

COUNT_LABELS = {str(FIGURE_LABELS[f]) for f in ("visits", "dropins", "unique", "new", "returning", "local", "waitlist")}


def _xlsx(client, **args):
    response = client.get("/reports/export.xlsx", query_string=args)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    return response.data


def test_coordinator_xlsx_has_every_breakdown_definitions_filters_and_no_small_cells(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    data = _xlsx(client, year=figures.year)
    wb = load_workbook(io.BytesIO(data))
    assert {"Overblik", "Institution", "Aldersgruppe × Køn", "Definitioner", "Filtre", "Måned", "Initiativ"} <= set(wb.sheetnames)
    text = []
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for label, cell in zip(header, row, strict=True):
                text.append(str(cell.value))
                if label in COUNT_LABELS and isinstance(cell.value, (int, float)):
                    assert cell.value == 0 or cell.value >= 5, (ws.title, label, cell.value)
    inst = {row[0].value: row for row in wb["Institution"].iter_rows(min_row=2)}
    assert inst["Klub A"][4].value == "<5"  # unique young people at A: 2
    # no names and no ids of young people anywhere
    joined = " ".join(text)
    assert "Aisha" not in joined and "Hemmelignavn" not in joined and w.youth.pass_token not in joined
    assert wb["Filtre"]["B1"].value == f"01.01.{figures.year} – 31.12.{figures.year}"


def test_a_formula_shaped_institution_or_activity_name_exports_as_text(app, client, figures):
    client.login_as(figures.world.coordinator)
    data = _xlsx(client, year=figures.year)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/")]
    assert all("<f>" not in s for s in sheets), "a cell was written as a formula"
    ws = load_workbook(io.BytesIO(data))["Institution"]
    cell = next(c for c in ws["A"] if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.quotePrefix

    response = client.get("/reports/export.csv", query_string={"year": figures.year, "breakdown": "institution"})
    names = [row[0] for row in csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";") if row]
    assert '\'=HYPERLINK("http://evil.example","Klik")' in names
    assert not any(name.startswith(("=", "+", "-", "@")) for name in names)


def test_csv_opens_in_danish_excel(app, client, figures):
    app.config["SMALL_CELL_THRESHOLD"] = 2
    client.login_as(figures.world.coordinator)
    response = client.get("/reports/export.csv", query_string={"year": figures.year, "breakdown": "district"})
    assert response.status_code == 200
    assert response.data.startswith("\ufeff".encode())
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].split(";")[:3] == ["Distrikt", "Afholdte gange", "Fremmøder"]
    ydre = next(line.split(";") for line in lines if line.startswith("Ydre"))
    # 19 visits over 2 sessions in Ydre Nørrebro, released by their cell key; the average from the released
    # number, with a decimal comma
    visits = released_count(19, visits_cell_key(district=figures.world.district_b), 2)
    assert ydre[1:3] == ["2", str(visits)]
    assert ydre[9] == format_decimal(round(visits / 2, 1), format="0.###", locale="da_DK")
    assert "," in ydre[9] or visits % 2 == 0
    last = list(csv.reader(io.StringIO(lines[-1]), delimiter=";"))[0]
    assert last[0].startswith("Tallene er ændret en smule tilfældigt")
    assert "attachment" in response.headers["Content-Disposition"]


def test_every_export_is_audited_with_its_filters(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    _xlsx(client, year=figures.year, district=w.district_b.id)
    client.get("/reports/export.csv", query_string={"year": figures.year, "breakdown": "month"})
    client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "gender"})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.export").order_by(AuditEvent.id)).all()
    assert [e.details["format"] for e in events] == ["xlsx", "csv", "json"]
    assert all(e.user_id == w.coordinator.id for e in events)
    assert events[0].details["filters"]["district_id"] == w.district_b.id
    assert events[1].details["group_by"] == ["month"]


def test_api_answers_rows_with_nulls_and_flags(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    response = client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "district,month"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["group_by"] == ["district", "month"] and body["small_cell_threshold"] == 5
    by_district = {r["district_name"]: r for r in body["rows"]}
    # too few young people behind Indre: its months are left out (each month shown would say "at least one")
    assert "Indre Nørrebro" not in by_district
    ydre = by_district["Ydre Nørrebro"]
    body = client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "district"}).get_json()
    by_district = {r["district_name"]: r for r in body["rows"]}
    indre = by_district["Indre Nørrebro"]
    assert indre["unique"] is None and "unique" in indre["small"] and indre["avg_per_session"] is None
    # too few young people behind Indre: their visits are hidden too, though not small themselves
    assert indre["visits"] is None and "visits" in indre["suppressed"] and "visits" not in indre["small"]
    # Ydre is released with its cell key's perturbation; the total minus Ydre cannot give Indre's 2 away,
    # because the total is perturbed as well
    assert ydre["unique"] == released_count(19, people_cell_key(district=figures.world.district_b), 5)
    assert ydre["sessions"] == 2
    assert body["max_perturbation"] == 3 and "±3" in body["note"]
    for row in body["rows"]:
        for figure in ("visits", "unique", "new", "returning", "local", "dropins"):
            assert row[figure] is None or row[figure] == 0 or row[figure] >= 5
    assert "/stats" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_api_refuses_bad_requests(app, client, figures):
    client.login_as(figures.world.coordinator)
    assert client.get("/api/v1/stats", query_string={"group_by": "month"}).status_code == 400
    bad = client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "youth"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_group_by"
    bad = client.get("/api/v1/stats", query_string={"from": "2026-05-01", "to": "2026-01-01"})
    assert bad.get_json()["error"]["code"] == "bad_period"


def test_staff_see_only_their_institution_and_anonymous_nothing(app, client, figures):
    w = figures.world
    anonymous = app.test_client()
    assert anonymous.get("/api/v1/stats", query_string=year_args(figures.year)).status_code == 401
    assert anonymous.get("/reports").status_code == 302
    assert anonymous.get("/reports/export.xlsx").status_code == 302

    client.login_as(w.staff_b)
    rows = client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "institution"}).get_json()["rows"]
    assert [r["institution"] for r in rows] == [w.inst_b.id]
    assert client.get("/api/v1/stats", query_string={**year_args(figures.year), "institution": w.inst_a.id}).status_code == 403
    assert client.get("/reports", query_string={"institution": w.inst_a.id}).status_code == 403
    page = client.get("/reports", query_string={"year": figures.year}).get_data(as_text=True)
    assert "Klub B" in page and "Klub A" not in page and "HYPERLINK" not in page
    wb = load_workbook(io.BytesIO(_xlsx(client, year=figures.year)))
    assert [r[0].value for r in wb["Institution"].iter_rows(min_row=2)] == ["Klub B"]

    client.login_as(w.youth_user)
    assert client.get("/api/v1/stats", query_string=year_args(figures.year)).status_code == 403
    assert client.get("/reports").status_code == 403


def test_api_takes_a_personal_api_token(app, client, figures):
    import secrets

    from youthclub.api.core import hash_token
    from youthclub.models import ApiToken

    secret = secrets.token_urlsafe(24)
    db.session.add(ApiToken(user_id=figures.world.coordinator.id, name="rapport", token_hash=hash_token(secret), prefix=secret[:8]))
    db.session.commit()
    response = app.test_client().get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "gender"},
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.get_json()["group_by"] == ["gender"]
    wrong = app.test_client().get("/api/v1/stats", query_string=year_args(figures.year), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
