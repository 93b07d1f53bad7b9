"""UC and OLA side by side: an internal team (all its contracts OLAs) is scored by the same rules
and marked as such in the scorecard, the API and the performance page."""
from __future__ import annotations

from fieldsvc.db import db
from fieldsvc.visits.scorecards.kpis import compute_scorecard
from tests.conftest import login
from tests.scorecard.dataset import END, NOW, START


def test_internal_team_is_scored_beside_the_contractor(client, month, world):
    world.contracts[1].kind = "ola"
    db.session.commit()
    card = compute_scorecard(START, END, user=None, now=NOW)
    kinds = {r.code: r.contract_kind for r in card.rows}
    assert kinds == {"c1": "uc", "c2": "ola"}
    login(client, "admin")
    body = client.get("/api/v1/scorecards", query_string={"from": START.isoformat(), "to": END.isoformat()}).json
    assert {r["code"]: r["contract_kind"] for r in body["rows"]} == {"c1": "uc", "c2": "ola"}
    world.users["admin"].language = "en"
    db.session.commit()
    page = client.get("/psp/performance", query_string={"from": START.isoformat(), "to": END.isoformat()})
    assert page.get_data(as_text=True).count('class="badge text-bg-light border contract-kind"') == 2
