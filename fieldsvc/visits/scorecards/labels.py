"""People's names and definitions of the scorecard KPIs (translated with Flask-Babel).

Shared by the workbook (fieldsvc.visits.scorecards.workbook) and the /psp pages so both say the same thing.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

__all__ = ["KPI_LABELS", "KPI_DEFINITIONS", "KPI_UNITS", "PENALTY_KINDS", "STATUS_LABELS",
           "PENALTY_STATUS_LABELS", "SUMMARY_KPIS", "label"]

KPI_LABELS = {
    "pm_due": _l("PM due"),
    "pm_done_in_window": _l("PM done in window"),
    "pm_done_late": _l("PM done late"),
    "pm_missed": _l("PM missed"),
    "pm_pending": _l("PM pending"),
    "pm_compliance_pct": _l("PM compliance %"),
    "em_calls": _l("EM calls"),
    "response_met": _l("Response met"),
    "response_decided": _l("Response decided"),
    "response_met_pct": _l("Response met %"),
    "resolution_met": _l("Resolution met"),
    "resolution_decided": _l("Resolution decided"),
    "resolution_met_pct": _l("Resolution met %"),
    "response_median_h": _l("Median response (h)"),
    "response_p90_h": _l("90th percentile response (h)"),
    "resolution_median_h": _l("Median resolution (h)"),
    "resolution_p90_h": _l("90th percentile resolution (h)"),
    "first_time_fixes": _l("First-time fixes"),
    "resolved_with_visit": _l("Resolved with a visit"),
    "first_time_fix_pct": _l("First-time fix %"),
    "repeat_calls_7d": _l("Repeat calls within 7 days"),
    "installs_due": _l("Installations due"),
    "installs_on_time": _l("Installations on time"),
    "installs_decided": _l("Installations decided"),
    "installs_on_time_pct": _l("Installations on time %"),
    "open_over_24h": _l("Open over 24 h"),
    "open_over_48h": _l("Open over 48 h"),
    "open_over_72h": _l("Open over 72 h"),
    "checkins": _l("Check-ins"),
    "checkins_flagged": _l("Check-ins outside the geofence"),
    "geofence_flagged_pct": _l("Outside the geofence %"),
    "surveys": _l("Surveys"),
    "satisfaction_avg": _l("Average satisfaction (1-5)"),
    "reviews": _l("Reviewed services"),
    "review_score_avg": _l("Review score (1-5)"),
    "penalties_total": _l("Penalties (Rial)"),
    "inspections_due": _l("PM inspections due"),
    "inspections_complete": _l("PM inspections complete"),
    "inspection_completeness_pct": _l("Inspection completeness %"),
    "campaign_tasks_due": _l("Campaign tasks due"),
    "campaign_tasks_on_time": _l("Campaign tasks done on time"),
    "campaign_tasks_decided": _l("Campaign tasks decided"),
    "campaign_on_time_pct": _l("Campaign on time %"),
    "first_response_met": _l("First response met"),
    "first_response_decided": _l("First response decided"),
    "first_response_met_pct": _l("First response met %"),
    "first_response_avg_min": _l("Average first response (min)"),
    "remote_resolved": _l("Resolved remotely"),
    "remote_resolution_pct": _l("Remote resolution %"),
    "field_dispatched": _l("Sent to the field"),
    "field_dispatch_pct": _l("Field dispatch %"),
    "score": _l("Score"),
    "rank": _l("Rank"),
}

KPI_DEFINITIONS = {
    "pm_due": _l("PM visits (not cancelled) whose due date lies in the period."),
    "pm_done_in_window": _l("PM visits due in the period completed on or before the last day of their window (local date of check-out)."),
    "pm_done_late": _l("PM visits due in the period completed after their window."),
    "pm_missed": _l("PM visits due in the period marked missed, or not completed although their window has closed."),
    "pm_pending": _l("PM visits due in the period not completed yet whose window is still open."),
    "pm_compliance_pct": _l("PM done in window divided by (PM due minus PM pending)."),
    "em_calls": _l("Service calls reported in the period (cancelled calls left out)."),
    "response_met_pct": _l("Calls with a technician on site at or before the response deadline, divided by the calls whose response is decided (on site, or deadline passed)."),
    "resolution_met_pct": _l("Calls resolved at or before the resolution deadline, divided by the calls whose resolution is decided."),
    "response_median_h": _l("Median of the response times in working hours of the contract calendar (pauses excluded), interpolated like PostgreSQL percentile_cont."),
    "response_p90_h": _l("90th percentile of the response times in working hours of the contract calendar."),
    "resolution_median_h": _l("Median of the resolution times in working hours of the contract calendar."),
    "resolution_p90_h": _l("90th percentile of the resolution times in working hours of the contract calendar."),
    "first_time_fix_pct": _l("Resolved calls with exactly one visit (checked in), divided by resolved calls with at least one visit."),
    "repeat_calls_7d": _l("Calls of the period whose terminal had another call reported less than 7 days before."),
    "installs_on_time_pct": _l("Installations due in the period completed by their deadline, divided by those completed or past their deadline."),
    "open_over_24h": _l("Calls of the period still not resolved, open for more than 24 wall-clock hours (48 h, 72 h likewise)."),
    "geofence_flagged_pct": _l("Check-ins of the period flagged outside the merchant's geofence, divided by check-ins with a verification result."),
    "satisfaction_avg": _l("Average survey score (1 to 5) of the period's calls."),
    "review_score_avg": _l("Average score (1 to 5) the supervisors gave in the daily evaluation of services finished in the period."),
    "penalties_total": _l("Penalty ledger lines of the period (by the day the breached object belongs to), waived lines left out."),
    "first_response_met_pct": _l("Calls whose first human action (a note to the merchant, a remote step, a remote resolution or a dispatch) came at or before the first-response deadline, divided by the calls whose first response is decided (made, or deadline passed); calls without a first-response target are left out."),
    "first_response_avg_min": _l("Average working minutes from the report to the first response (pauses excluded)."),
    "remote_resolution_pct": _l("Calls resolved remotely by the help desk (tier 1 or tier 2) and not reopened since, divided by the calls; per tier on the Desk sheet, divided by the calls that reached that tier."),
    "field_dispatch_pct": _l("Calls sent to a technician, divided by the calls; per tier on the Desk sheet, divided by the calls that reached that tier."),
    "score": _l("Weighted average of the ratios below (0-100); KPIs without data are left out and the other weights re-normalised. Outside the geofence counts as 1 minus its share, satisfaction as (score - 1) / 4."),
    "rank": _l("Contractors ordered by score, highest first; equal scores share a rank."),
    "inspection_completeness_pct": _l("Terminals of completed PM visits due in the period with a checklist, whose required items were all answered, divided by those terminals. Not weighted in the score."),
    "campaign_on_time_pct": _l("Campaign tasks of the contractor whose campaign deadline lies in the period, done by the end of the deadline day, divided by those done, failed or still pending after the deadline. Not weighted in the score."),
}

KPI_UNITS = {k: "pct" for k in KPI_LABELS if k.endswith("_pct")} | {
    k: "hours" for k in KPI_LABELS if k.endswith("_h")} | {
    "satisfaction_avg": "score", "review_score_avg": "score", "score": "score", "penalties_total": "rial"}

#: KPIs of the Summary sheet and the PSP performance table.
SUMMARY_KPIS = ("score", "pm_compliance_pct", "response_met_pct", "resolution_met_pct",
                "first_time_fix_pct", "installs_on_time_pct", "geofence_flagged_pct",
                "satisfaction_avg", "inspection_completeness_pct", "campaign_on_time_pct", "em_calls", "pm_due",
                "penalties_total", "review_score_avg")

PENALTY_KINDS = {
    "late_response": _l("Late response"),
    "late_resolution": _l("Late resolution"),
    "missed_pm": _l("Missed PM"),
    "late_pm": _l("Late PM"),
    "late_install": _l("Late installation"),
}

STATUS_LABELS = {"met": _l("Met"), "at_risk": _l("At risk"), "breached": _l("Breached"),
                 "ok": _l("OK"), "missed": _l("Missed")}

PENALTY_STATUS_LABELS = {"proposed": _l("Proposed"), "confirmed": _l("Confirmed"),
                         "waived": _l("Waived")}


def label(key: str) -> str:
    """The translated label of a KPI, penalty kind or status key (the key itself if unknown)."""
    for table in (KPI_LABELS, PENALTY_KINDS, STATUS_LABELS, PENALTY_STATUS_LABELS):
        if key in table:
            return str(table[key])
    return key
