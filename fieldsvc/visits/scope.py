"""Who may see what, in one place: every service builds its queries from these filters.

admin: everything · psp: its PSP's merchants, terminals, contracts, calls, visits, penalties ·
dispatcher: its contractor's technicians, routes, visits, calls, penalties · technician: own route
and visits. Objects outside the scope are simply not found (the web layer answers 404).
"""
from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, false, select, true
from sqlalchemy.sql.elements import ColumnElement

from fieldsvc.db import db
from fieldsvc.visits import models as m
from fieldsvc.visits.models import Role

T = TypeVar("T")

#: The largest value of a 32-bit INTEGER column (PostgreSQL `integer`): ids beyond it do not exist.
MAX_DB_INT = 2**31 - 1


class NotFound(LookupError):
    """The object does not exist or lies outside the user's scope."""

    def __init__(self, what: str, ident: Any) -> None:
        super().__init__(f"{what} {ident} not found")
        self.what, self.ident = what, ident


class Forbidden(PermissionError):
    """The user's role may not perform this action."""


def scope_clause(model: type, user: m.User | None) -> ColumnElement[bool]:
    """A WHERE clause limiting `model` rows to what `user` may see."""
    if user is None:
        return false()
    role = user.role
    if role == Role.ADMIN:
        return true()
    if role == Role.PSP:
        return _psp_clause(model, user.psp_id)
    if role == Role.DISPATCHER:
        return _contractor_clause(model, user.contractor_id)
    if role == Role.TECHNICIAN:
        return _technician_clause(model, user)
    return false()


def _psp_clause(model: type, psp_id: int | None) -> ColumnElement[bool]:
    if psp_id is None:
        return false()
    if model is m.StockPlace:  # its own places and those of the contractors it contracts
        return (m.StockPlace.psp_id == psp_id) | m.StockPlace.contractor_id.in_(
            select(m.Contract.contractor_id).where(m.Contract.psp_id == psp_id))
    if hasattr(model, "psp_id"):
        return model.psp_id == psp_id
    if model is m.Psp:
        return m.Psp.id == psp_id
    if model is m.Contractor:
        return m.Contractor.id.in_(select(m.Contract.contractor_id).where(m.Contract.psp_id == psp_id))
    if model is m.Technician:
        return m.Technician.contractor_id.in_(
            select(m.Contract.contractor_id).where(m.Contract.psp_id == psp_id))
    if model is m.Visit:
        return m.Visit.merchant_id.in_(select(m.Merchant.id).where(m.Merchant.psp_id == psp_id))
    if model is m.Route:
        return m.Route.technician_id.in_(select(m.Technician.id).where(m.Technician.contractor_id.in_(
            select(m.Contract.contractor_id).where(m.Contract.psp_id == psp_id))))
    if model is m.Region:
        return true()
    return false()


def _contractor_clause(model: type, contractor_id: int | None) -> ColumnElement[bool]:
    if contractor_id is None:
        return false()
    if model is m.Contractor:
        return m.Contractor.id == contractor_id
    if model is m.StockPlace:  # its warehouse and vans, and the warehouses of the PSPs it works for
        return (m.StockPlace.contractor_id == contractor_id) | (
            (m.StockPlace.kind == m.PlaceKind.PSP_WAREHOUSE) & m.StockPlace.psp_id.in_(
                select(m.Contract.psp_id).where(m.Contract.contractor_id == contractor_id)))
    if hasattr(model, "contractor_id") and model is not m.User:
        return model.contractor_id == contractor_id
    if model is m.Route:
        return m.Route.technician_id.in_(select(m.Technician.id).where(
            m.Technician.contractor_id == contractor_id))
    contracts = select(m.Contract.psp_id).where(m.Contract.contractor_id == contractor_id)
    regions = select(m.region_id_col()).where(m.contract_region.c.contract_id.in_(
        select(m.Contract.id).where(m.Contract.contractor_id == contractor_id)))
    if model is m.Merchant:
        return m.Merchant.psp_id.in_(contracts) & m.Merchant.region_id.in_(regions)
    if model is m.Terminal:
        return m.Terminal.merchant_id.in_(select(m.Merchant.id).where(
            m.Merchant.psp_id.in_(contracts) & m.Merchant.region_id.in_(regions)))
    if model is m.Psp:
        return m.Psp.id.in_(contracts)
    if model is m.Region:
        return m.Region.id.in_(regions)
    return false()


def _technician_clause(model: type, user: m.User) -> ColumnElement[bool]:
    tid = user.technician_id
    if tid is None:
        return false()
    if model is m.Technician:
        return m.Technician.id == tid
    if model is m.StockPlace:  # the own van, and the contractor's warehouse spares come from
        return (m.StockPlace.technician_id == tid) | (
            (m.StockPlace.kind == m.PlaceKind.CONTRACTOR_WAREHOUSE)
            & (m.StockPlace.contractor_id == user.contractor_id))
    if model in (m.Visit, m.Route, m.ServiceCall):
        return model.technician_id == tid
    if model is m.Merchant:
        return m.Merchant.id.in_(select(m.Visit.merchant_id).where(m.Visit.technician_id == tid))
    if model is m.Terminal:
        return m.Terminal.merchant_id.in_(select(m.Visit.merchant_id).where(m.Visit.technician_id == tid))
    return false()


def scoped(model: type[T], user: m.User | None) -> Select[tuple[T]]:
    """`select(model)` limited to the user's scope."""
    return select(model).where(scope_clause(model, user))


def get_scoped(model: type[T], ident: Any, user: m.User | None) -> T:
    """The object with primary key `ident` if the user may see it, else NotFound."""
    if isinstance(ident, int) and not -MAX_DB_INT <= ident <= MAX_DB_INT:
        raise NotFound(model.__name__, ident)
    obj = db.session.scalars(scoped(model, user).where(model.id == ident)).first()  # type: ignore[attr-defined]
    if obj is None:
        raise NotFound(model.__name__, ident)
    return obj


def require_role(user: m.User | None, *roles: str) -> None:
    """Forbidden unless the user has one of `roles`."""
    if user is None or user.role not in roles:
        raise Forbidden(f"this action needs one of the roles: {', '.join(roles)}")
