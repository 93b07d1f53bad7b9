"""Setting up a customer in the browser (/setup): master data, contracts, logins and file imports."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required

from fieldsvc.visits.scope import require_role
from fieldsvc.web.nav import add_nav

bp = Blueprint("setup", __name__, url_prefix="/setup")


@bp.get("/")
@login_required
def index():
    """The set-up overview: what to create, in order."""
    require_role(current_user, "admin", "psp", "dispatcher")
    return render_template("setup/index.html", view_functions=current_app.view_functions)


add_nav(lambda: _("Set-up"), "setup.index", {"admin", "psp", "dispatcher"}, "/setup")

from fieldsvc.web.setup import contracts, imports, logins, pages  # noqa: E402,F401 - register their pages on bp
