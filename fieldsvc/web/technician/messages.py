"""Translated texts the technician's page script shows (passed to it as JSON)."""
from __future__ import annotations

from flask_babel import gettext as _


def js_messages() -> dict[str, str]:
    """Every user-facing string of tech.js, in the request's language."""
    return {
        "locating": _("Getting your location…"),
        "sending": _("Sending…"),
        "queued": _("Saved on this phone; it will be sent when you are online."),
        "waiting": _("Waiting to be sent: %(n)s"),
        "all_sent": _("Everything is sent."),
        "online": _("Online"),
        "offline": _("Offline: your work is saved on this phone"),
        "verified": _("Checked in — location verified (%(d)s m from the shop)."),
        "flagged": _("Checked in — flagged: %(why)s."),
        "checked_in_waiting": _("Checked in (waiting to be sent)."),
        "checked_out_waiting": _("Checked out (waiting to be sent)."),
        "too_far": _("you are %(d)s m from the shop (limit %(r)s m)"),
        "stale": _("the location fix is more than two minutes old"),
        "inaccurate": _("the location is not accurate enough (±%(a)s m, limit %(r)s m)"),
        "no_position": _("no location"),
        "need_reason": _("Location not verified: %(why)s. Type the reason and check in again; "
                         "the check-in will be flagged."),
        "reason_empty": _("Type a reason first."),
        "off_day": _("this visit is planned for another day"),
        "closed_hours": _("the shop is closed at this time"),
        "need_reason_time": _("Unusual check-in: %(why)s. Type the reason and check in again; "
                              "the check-in will be flagged."),
        "short_visit": _("This visit lasted less than two minutes. Type the reason, then check out "
                         "again; the check-out will be flagged."),
        "denied": _("Location is blocked for this site."),
        "unavailable": _("Your location is not available right now (no GPS signal?). Move near a "
                         "window or outside and try again, or check in with a reason."),
        "timeout": _("Getting your location took too long. Try again, or check in with a reason."),
        "no_geolocation": _("This browser cannot give a location. Check in with a reason."),
        "failed": _("Not accepted by the server: %(msg)s"),
        "logged_out": _("You are logged out. Log in again; your saved work stays on this phone."),
        "too_many_photos": _("At most %(n)s photos."),
        "photo_too_big": _("%(name)s is larger than 8 MB."),
        "photo_type": _("%(name)s is not a JPEG, PNG or WebP photo."),
        "choose_outcome": _("Choose an outcome."),
        "need_serials": _("Type the old and the new serial number."),
        "need_code": _("Ask the merchant for the confirmation code and type it."),
        "remove": _("Remove"),
        "check_in": _("Check in"),
        "check_out": _("Check out"),
        "done": _("Done: %(outcome)s"),
        "old_route": _("This route is for %(date)s, not today. Connect to the internet to load today's route."),
        "kind_check_in": _("Check-in"),
        "kind_check_out": _("Check-out"),
        "checklist_missing": _("Answer every required checklist item: %(label)s"),
        "checklist_number": _("Type a number for %(label)s"),
        "parts_count": _("Type a whole number from 0 to %(max)s for %(label)s"),
    }
