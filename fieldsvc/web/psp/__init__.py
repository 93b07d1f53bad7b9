"""The payment company's pages under /psp: open work, services done, contractor performance,
unresolved calls, the penalty ledger and the scorecards workbook (blueprint "psp")."""
from fieldsvc.web.psp.views import bp
from fieldsvc.web.psp import failures as _failures  # noqa: F401 - registers /psp/failures

__all__ = ["bp"]
