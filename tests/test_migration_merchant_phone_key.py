"""Migration e5a90c4b7d13 gives every existing merchant its canonical phone, and an incoming call
then finds the merchant however its number was written."""
from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.master.requesters import merchants_by_phone
from fieldsvc.web import MIGRATIONS_DIR
from tests.migrating import drop_everything


def test_existing_merchants_get_their_phone_key(app):
    drop_everything()
    try:
        upgrade(directory=str(MIGRATIONS_DIR), revision="d81f3a6c2e94")
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO psp (id, code, name, name_fa, active, created_at, updated_at) "
                              "VALUES (1, 'p', 'P', '', :yes, '2026-01-01', '2026-01-01')"), {"yes": True})
            for mid, phone in ((1, "۰۲۱-۸۸۷۷ ۶۶۵۵"), (2, "+98 912 111 2233"), (3, "ask the owner"), (4, "")):
                conn.execute(text(
                    "INSERT INTO merchant (id, psp_id, code, name, address, phone, email, contact_name, language, "
                    "lat, lon, opening_hours, closed_dates, active, created_at, updated_at) VALUES (:id, 1, :code, "
                    "'M', '', :phone, '', '', 'fa', 35.7, 51.4, '{}', '[]', :yes, '2026-01-01', '2026-01-01')"),
                    {"id": mid, "code": f"m{mid}", "phone": phone, "yes": True})
        upgrade(directory=str(MIGRATIONS_DIR))
        with db.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT id, phone_key FROM merchant ORDER BY id")).all())
        assert keys == {1: "02188776655", 2: "09121112233", 3: None, 4: None}
        assert [x.id for x in merchants_by_phone("021 88776655")] == [1]
        assert [x.id for x in merchants_by_phone("0098-912-111-2233")] == [2]
    finally:
        drop_everything()
        db.create_all()


def test_a_merchant_phone_changed_later_is_found_by_its_new_number(app, world):
    merchant = db.session.get(m.Merchant, world.merchants[0].id)
    merchant.phone = "(021) 2233-4455"
    db.session.commit()
    assert merchant.phone_key == "02122334455"
    assert merchant.id in [x.id for x in merchants_by_phone("+982122334455")]
    merchant.phone = "unknown"
    db.session.commit()
    assert merchant.phone_key is None and merchants_by_phone("+982122334455") == []
