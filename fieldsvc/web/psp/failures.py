"""/psp/failures: failures per terminal model and age, MTBF, repeat failures after a visit per
contractor (rules: fieldsvc.visits.scorecards.failures)."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import login_required

from fieldsvc.text import parse_int
from fieldsvc.visits.scorecards.failures import AGE_BANDS, DEFAULT_REPEAT_DAYS, failure_report
from fieldsvc.web.nav import add_nav
from fieldsvc.web.psp.views import R, _ctx, _period, _user, bp

add_nav(lambda: _("Failures"), "psp.failures", {R.PSP, R.ADMIN}, "/psp/failures")


@bp.get("/failures")
@login_required
def failures():
    """Failure analytics of the period."""
    user = _user()
    start, end = _period()
    try:
        days = min(365, max(1, parse_int(request.args.get("days") or DEFAULT_REPEAT_DAYS)))
    except ValueError:
        days = DEFAULT_REPEAT_DAYS
    report = failure_report(start, end, user=user, repeat_days=days)
    return render_template("psp/failures.html", report=report, bands=AGE_BANDS, **_ctx(start, end))
