"""The one translation function of the business code.

Messages are written in English and translated into the caller's language by Flask-Babel: the
user's language inside a web request, the forced one under ``flask_babel.force_locale`` (e-mails,
workbooks), the English source text elsewhere (jobs, CLI). The choice of language belongs to the
web layer (:func:`fieldsvc.web.i18n.select_locale`); nothing here reads a request or ``g``."""
from __future__ import annotations

from flask_babel import gettext, lazy_gettext

__all__ = ["gettext", "lazy_gettext"]
