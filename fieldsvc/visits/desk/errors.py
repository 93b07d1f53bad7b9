"""The one error type of the service desk (its own module so that slotting and calls share it without a cycle)."""
from __future__ import annotations


class CallError(Exception):
    """A refused request with an HTTP status, a machine code, a message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 call_id: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field, self.call_id = status, code, message, field, call_id
