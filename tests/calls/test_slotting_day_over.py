"""EM slotting late in the day (issue 25): a technician whose shift is over is skipped, not an
error; assigning the call to them is refused with a clear reason."""
from __future__ import annotations

import pytest

from fieldsvc.db import db
from fieldsvc.visits.desk import slotting
from fieldsvc.visits.desk.calls import CallError
from tests.calls.conftest import DAY, add_route, new_call, tehran
from tests.conftest import login


def test_a_technician_whose_shift_ended_is_skipped_and_cannot_be_chosen(world, fixed_now):
    part_timer, other = world.technicians[0], world.technicians[1]
    part_timer.shift_end = "13:00"
    db.session.commit()
    add_route(part_timer, DAY, [(world.merchants[1], "pm", "completed"), (world.merchants[2], "pm", "planned")],
              start="11:00")
    call = new_call(world)
    fixed_now(tehran(DAY, "14:00"))
    live = slotting.load_live_day(part_timer.contractor_id, DAY, tehran(DAY, "14:00"))
    assert [lt.technician.id for lt in live] == [other.id]
    options = slotting.slot_options(call.id, world.users["dispatcher-c1"])
    assert options and {o.technician_id for o in options} == {other.id}
    with pytest.raises(CallError) as refused:
        slotting.assign_call(call.id, part_timer.id, None, world.users["dispatcher-c1"], call.version)
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "day_over", "technician_id")
    assert "Tech 1-1" in refused.value.message and "13:00" in refused.value.message
    assert call.status == "open"


def test_a_checked_in_job_running_past_the_shift_end_leaves_no_room(world, fixed_now):
    part_timer = world.technicians[0]
    part_timer.shift_end = "13:00"
    db.session.commit()
    add_route(part_timer, DAY, [(world.merchants[1], "pm", "checked_in")], start="12:50")  # 20 minutes: to 13:10
    fixed_now(tehran(DAY, "12:55"))
    ids = [lt.technician.id for lt in slotting.load_live_day(part_timer.contractor_id, DAY, tehran(DAY, "12:55"))]
    assert ids == [world.technicians[1].id]


def test_late_evening_slot_options_come_from_the_next_day_not_an_error(client, world, fixed_now):
    call = new_call(world)
    fixed_now(tehran(DAY, "21:38"))
    assert slotting.load_live_day(world.contractors[0].id, DAY, tehran(DAY, "21:38")) == []
    login(client, "dispatcher-c1")
    res = client.get(f"/api/v1/service-calls/{call.id}/slot-options")
    body = res.get_json()
    assert res.status_code == 200 and body["reason"] == "shift_over" and body["message"]
    assert body["options"] and {o["date"] for o in body["options"]} == {"2026-11-23"}  # more in test_em_any_hour
    assert client.get(f"/psp/calls/{call.id}").status_code == 200
