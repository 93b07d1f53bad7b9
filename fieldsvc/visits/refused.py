"""The one shape of a refused request in the business rooms: a message for people, the field (or
row) at fault, an HTTP-like status and a machine code; raised before anything is written."""
from __future__ import annotations


class Refused(ValueError):
    """Refused input: status, machine code, message and the field at fault; nothing written."""

    def __init__(self, message: str, field: str, *, status: int = 422, code: str = "invalid") -> None:
        super().__init__(message)
        self.message, self.field, self.status, self.code = message, field, status, code
