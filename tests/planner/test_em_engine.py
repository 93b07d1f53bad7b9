"""The one EM engine (issue 19 point 6), pure: timing with breaks and windows, refusals,
lateness against the SLA deadline, one ranking over routes of several days."""
from fieldsvc.planner.em import LiveRoute, LiveStop, evaluate, rank_key, retime, shifted, slot_options
from fieldsvc.planner.params import SolveParams
from fieldsvc.planner.problem import Break, Point, TimeWindow, Visit

# 0.001 degree of longitude at the equator ~ 111 m, 1 m/s: ~111 s
P = SolveParams(detour_factor=1.0, speeds_mps={"car": 1.0})
H = 3600
DAY = 24 * H


def pt(x: float) -> Point:
    return Point(0.0, x)


def test_retime_takes_the_break_before_a_stop_that_would_end_after_its_latest_start():
    lunch = Break(TimeWindow(12 * H, 13 * H), 1800)
    r = LiveRoute("t", pt(0.0), 11 * H, (), end=pt(0.0), break_=lunch, shift_end=18 * H)
    short = LiveStop("a", pt(0.0), 1200)  # 11:00-11:20: before lunch
    long = LiveStop("b", pt(0.0), 5400)  # 11:20-12:50 would pass 12:30 (the break's latest start): lunch first
    timed = retime(r, (short, long), P)
    assert timed.times[0].start == 11 * H
    assert timed.break_at == 12 * H and timed.times[1].start == 12 * H + 1800
    no_break = retime(LiveRoute("t", pt(0.0), 11 * H, (), end=pt(0.0), shift_end=18 * H), (short, long), P)
    assert no_break.times[1].start == 11 * H + 1200 and no_break.break_at is None
    fits = retime(r, (short, LiveStop("c", pt(0.0), 3600)), P)  # 11:20-12:20: before lunch, break after
    assert fits.times[1].start == 11 * H + 1200 and fits.break_at is None


def test_retime_waits_for_windows_and_drops_stops_past_them_or_the_shift():
    r = LiveRoute("t", pt(0.0), 0, (), end=pt(0.0), shift_end=5000)
    waits = LiveStop("w", pt(0.0), 100, (TimeWindow(1000, 2000),))
    closed = LiveStop("c", pt(0.0), 100, (TimeWindow(0, 500),))
    too_long = LiveStop("x", pt(0.0), 4000)
    timed = retime(r, (waits, closed, too_long), P)
    assert timed.times[0].arrival == 0 and timed.times[0].start == 1000
    assert timed.times[1] is None and timed.times[2] is None


def test_an_option_honours_the_break_and_reports_lateness_against_the_deadline():
    lunch = Break(TimeWindow(12 * H, 13 * H), 1800)
    r = LiveRoute("t", pt(0.0), 12 * H, (), end=pt(0.0), break_=lunch, shift_end=18 * H)
    call = Visit("em", location=pt(0.0), service=3600, sla_deadline=12 * H + 600)
    opt, timed = evaluate(r, call, 0, P)
    assert opt.eta == 12 * H + 1800  # the hour-long job would end after 12:30: lunch comes first
    assert opt.late_seconds == 1200 and not opt.sla_met
    assert timed.break_at == 12 * H


def test_a_stop_that_may_not_move_is_never_pushed_out():
    em_stop = LiveStop("em-other", pt(0.001), 0, (TimeWindow(0, 120),), movable=False)
    r = LiveRoute("t", pt(0.0), 0, (em_stop,), end=pt(0.0))
    call = Visit("em", location=pt(0.0), service=500)
    assert evaluate(r, call, 0, P) is None  # would push the other EM call past its window
    assert evaluate(r, call, 1, P) is not None


def test_an_em_stop_that_met_its_deadline_keeps_meeting_it():
    other = LiveStop("em-other", pt(0.001), 0, sla_deadline=200, movable=False)
    r = LiveRoute("t", pt(0.0), 0, (other,), end=pt(0.0))
    call = Visit("em", location=pt(0.0), service=500)
    assert [o.position for o in slot_options([r], call, P, limit=None)] == [1]


def test_max_visits_counts_visits_and_frozen_stops_are_kept():
    stops = (LiveStop("done", pt(0.0), 0), LiveStop("next", pt(0.001), 0))
    r = LiveRoute("t", pt(0.0), 0, stops, frozen=1, end=pt(0.0), max_visits=3)
    call = Visit("em", location=pt(0.002))
    assert {o.position for o in slot_options([r], call, P, limit=None)} == {1, 2}
    assert slot_options([LiveRoute("t", pt(0.0), 0, stops, frozen=1, max_visits=2)], call, P) == []


def test_ranking_sla_then_lateness_then_travel_then_best_per_technician_first():
    near = LiveRoute("near", pt(0.0), 0, (LiveStop("x", pt(0.0), 0), LiveStop("y", pt(0.0), 0)), end=pt(0.0))
    far = LiveRoute("far", pt(0.003), 0, (), end=pt(0.003))
    call = Visit("em", location=pt(0.0), sla_deadline=1000)
    opts = slot_options([near, far], call, P, limit=None)
    assert [o.technician_id for o in opts[:2]] == ["near", "far"]  # each technician's best first
    assert opts == sorted(opts[:2], key=rank_key) + sorted(opts[2:], key=rank_key)
    assert all(o.sla_met for o in opts)
    late = slot_options([far], Visit("em", location=pt(0.0), sla_deadline=100), P)[0]
    assert late.late_seconds == late.eta - 100 > 0 and not late.sla_met


def test_routes_of_two_days_rank_together_on_call_today_first():
    """An on-call technician tonight and a regular one tomorrow, times from today's midnight."""
    deadline = 22 * H
    call = Visit("em", location=pt(0.0), service=1800, sla_deadline=deadline,
                 time_windows=(TimeWindow(16 * H, 21 * H), TimeWindow(DAY + 9 * H, DAY + 13 * H)))
    tonight = LiveRoute("oncall", pt(0.001), 20 * H, (), end=pt(0.001), shift_end=DAY + 8 * H, on_call=True)
    tomorrow = shifted(LiveRoute("regular", pt(0.0), 8 * H, (LiveStop("pm", pt(0.0), 600, (TimeWindow(8 * H, 9 * H),)),),
                                 end=pt(0.0), shift_end=17 * H, break_=Break(TimeWindow(12 * H, 14 * H), 1800)),
                       DAY, 1)
    assert tomorrow.time == DAY + 8 * H and tomorrow.break_.window.start == DAY + 12 * H
    assert tomorrow.stops[0].time_windows == (TimeWindow(DAY + 8 * H, DAY + 9 * H),)
    opts = slot_options([tomorrow, tonight], call, P, limit=None)
    first = opts[0]
    assert (first.technician_id, first.day, first.on_call, first.sla_met) == ("oncall", 0, True, True)
    assert 20 * H < first.eta < 21 * H
    nxt = next(o for o in opts if o.technician_id == "regular")
    assert nxt.day == 1 and nxt.eta >= DAY + 9 * H and nxt.late_seconds == nxt.eta - deadline


def test_an_evening_arrival_after_closing_waits_for_tomorrow_only_within_the_shift():
    call = Visit("em", location=pt(0.0), service=600,
                 time_windows=(TimeWindow(16 * H, 21 * H), TimeWindow(DAY + 9 * H, DAY + 13 * H)))
    late_on_call = LiveRoute("oncall", pt(0.0), 21 * H + 60, (), end=pt(0.0), shift_end=DAY + 8 * H)
    assert slot_options([late_on_call], call, P) == []


def test_the_insertion_shortcut_times_exactly_like_a_full_retime():
    """evaluate() reuses the old schedule once a later stop leaves in the same state: the result
    must equal re-timing the whole new order (random routes with windows, a break, a shift end)."""
    import random

    rng = random.Random(7)
    checked = 0
    for _ in range(150):
        n = rng.randint(0, 8)
        stops = tuple(LiveStop(f"s{i}", pt(rng.uniform(0, 0.01)), rng.choice([0, 600, 1200, 2400]),
                               rng.choice([(), (TimeWindow(9 * H, 13 * H), TimeWindow(16 * H, 21 * H)),
                                           (TimeWindow(rng.randint(8, 15) * H, rng.randint(16, 20) * H),)]),
                               sla_deadline=rng.choice([None, rng.randint(9, 18) * H]))
                      for i in range(n))
        brk = rng.choice([None, Break(TimeWindow(12 * H, 14 * H), 1800)])
        r = LiveRoute("t", pt(rng.uniform(0, 0.01)), rng.randint(8, 14) * H, stops, frozen=rng.randint(0, n),
                      end=pt(0.0), shift_end=rng.choice([17, 19, 21]) * H, break_=brk)
        call = Visit("em", location=pt(rng.uniform(0, 0.01)), service=rng.choice([600, 1800]),
                     time_windows=rng.choice([(), (TimeWindow(9 * H, 13 * H), TimeWindow(16 * H, 21 * H))]),
                     sla_deadline=rng.randint(9, 20) * H)
        for p in range(r.frozen, n + 1):
            found = evaluate(r, call, p, P)
            order = stops[:p] + (LiveStop("em", call.location, call.service, call.time_windows, call.sla_deadline,
                                          movable=False),) + stops[p:]
            full = retime(r, order, P)
            if found is None:
                continue
            timed = found[1]
            assert (timed.times, timed.travel, timed.end, timed.break_at) == \
                   (full.times, full.travel, full.end, full.break_at)
            checked += 1
    assert checked > 200
