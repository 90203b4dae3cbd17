"""One cell, one value: the dashboard, XLSX, CSV and JSON agree cell for cell; the dashboard is audited (its rate limit: tests/security/test_ratelimits.py)."""
from __future__ import annotations

import csv
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from tests.reports.conftest import year_args
from youthclub.extensions import db
from youthclub.models import AuditEvent
from youthclub.reports.services import FIGURE_LABELS, PROTECTED

FIGURES = ("sessions", "visits", "dropins", "unique")


def _number(text):
    text = text.strip()
    digits = text.replace(".", "")  # thousands separators on the page
    return int(digits) if digits.isdigit() else text.replace("&lt;", "<")


def test_dashboard_xlsx_csv_and_json_agree_cell_for_cell(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    args = {"year": figures.year}
    api = client.get("/api/v1/stats", query_string={**year_args(figures.year), "group_by": "institution"}).get_json()
    by_api = {}
    for row in api["rows"]:
        by_api[row["institution_name"]] = [
            "<5" if f in row["small"] else PROTECTED if f in row["suppressed"] else row[f] for f in FIGURES]
    wb = load_workbook(io.BytesIO(client.get("/reports/export.xlsx", query_string=args).data))
    ws = wb["Institution"]
    header = [c.value for c in ws[1]]
    columns = [header.index(str(FIGURE_LABELS[f])) for f in FIGURES]
    by_xlsx = {r[0].value: [r[i].value for i in columns] for r in ws.iter_rows(min_row=2)}
    response = client.get("/reports/export.csv", query_string={**args, "breakdown": "institution"})
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    columns = [lines[0].index(str(FIGURE_LABELS[f])) for f in FIGURES]
    by_csv = {line[0].lstrip("'"): [_number(line[i]) for i in columns] for line in lines[1:] if len(line) > 1}
    page = client.get("/reports", query_string=args).get_data(as_text=True)
    table = page[page.index("Tal pr. institution"):]
    table = table[:table.index("</table>")]
    by_page = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)[1:]:
        name = re.search(r'<th scope="row">(.*?)</th>', row, flags=re.S).group(1)
        cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r'<td class="num">(.*?)</td>', row, flags=re.S)]
        by_page[name.replace("&#34;", '"').replace("&quot;", '"')] = [_number(c) for c in cells[:len(FIGURES)]]
    assert len(by_api) == 3
    assert by_api == by_xlsx == by_csv == by_page
    assert by_api["Klub A"][3] == "<5"


def test_the_dashboard_is_audited_like_the_exports(app, client, figures):
    w = figures.world
    client.login_as(w.coordinator)
    assert client.get("/reports", query_string={"year": figures.year, "district": w.district_b.id}).status_code == 200
    assert client.get("/reports/action-plan", query_string={"district": w.district_a.id, "year": figures.year}).status_code == 200
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "stats.view").order_by(AuditEvent.id)).all()
    assert [e.details["page"] for e in events] == ["dashboard", "action_plan"]
    assert all(e.user_id == w.coordinator.id for e in events)
    assert events[0].details["filters"]["district_id"] == w.district_b.id and events[0].details["exact"] is False
    assert events[1].details["filters"]["district_id"] == w.district_a.id
    assert "Statistik vist" in client.get("/audit").get_data(as_text=True)

