"""Designated requesters: a merchant chain or a PSP branch names the people who may open calls for
its merchants (name, phone, e-mail). A merchant in a group with at least one active requester
accepts calls only from those people; anyone else's call is held for the desk to confirm
(:mod:`fieldsvc.visits.desk.holds`). A merchant in no group accepts calls from anyone.

Also the look-ups the channels need: who sent an e-mail, which merchant a caller's number is.
Every change commits and is audited; refused input raises :class:`RequesterError` naming the field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Optional

from sqlalchemy import func, select

from fieldsvc.db import db
from fieldsvc.text import normalize_digits, normalize_phone, normalize_text
from fieldsvc.visits.audit import record
from fieldsvc.visits.channel_models import (DesignatedRequester, GroupKind, RequesterGroup,
                                            RequesterGroupMerchant)
from fieldsvc.visits.i18n_text import gettext as _
from fieldsvc.visits.models import Merchant, Psp, Role, User
from fieldsvc.visits.scope import get_scoped, require_role, scoped

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class RequesterError(Exception):
    """Refused input: HTTP status, machine code, message and the field at fault."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def clean_phone(value: str, field_name: str = "phone") -> str:
    """Canonical Iranian number (+98, 0098, 0, Persian digits accepted) or RequesterError."""
    try:
        return normalize_phone(value or "")
    except ValueError:
        raise RequesterError(422, "phone", _("Type an Iranian phone number, e.g. 09121234567 or 02188776655."),
                             field_name) from None


def clean_email(value: str, field_name: str = "email") -> str:
    """Lower-case e-mail address or RequesterError."""
    v = (value or "").strip().lower()
    if not EMAIL_RE.match(v) or len(v) > 200:
        raise RequesterError(422, "email", _("Type an e-mail address like name@example.com."), field_name)
    return v


def _psp_of(user: User, psp_id: int | None) -> int:
    if user.role == Role.PSP:
        return int(user.psp_id)  # type: ignore[arg-type]
    if psp_id is None:
        raise RequesterError(422, "psp", _("Choose the PSP."), "psp_id")
    if db.session.get(Psp, psp_id) is None:
        raise RequesterError(422, "psp", _("No such PSP: choose one from the list."), "psp_id")
    return psp_id


# --------------------------------------------------------------------------- management


def list_groups(user: User) -> list[RequesterGroup]:
    """The requester groups the user may see, by name."""
    require_role(user, Role.PSP, Role.ADMIN)
    return list(db.session.scalars(scoped(RequesterGroup, user).order_by(RequesterGroup.name)))


def get_group(user: User, group_id: int) -> RequesterGroup:
    require_role(user, Role.PSP, Role.ADMIN)
    return get_scoped(RequesterGroup, group_id, user)


def create_group(user: User, kind: str, name: str, psp_id: int | None = None) -> RequesterGroup:
    """A new chain or branch of the user's PSP; commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    if kind not in {k.value for k in GroupKind}:
        raise RequesterError(422, "kind", _("Choose chain or branch."), "kind")
    name = normalize_text(name or "").strip()
    if not name or len(name) > 200:
        raise RequesterError(422, "name", _("Give the group a name (at most 200 characters)."), "name")
    psp = _psp_of(user, psp_id)
    if db.session.scalars(select(RequesterGroup).where(RequesterGroup.psp_id == psp,
                                                       RequesterGroup.name == name)).first():
        raise RequesterError(409, "name_taken", _("A group with this name already exists."), "name")
    group = RequesterGroup(psp_id=psp, kind=kind, name=name)
    db.session.add(group)
    db.session.flush()
    record("created", group, actor=user, kind=kind, name=name)
    db.session.commit()
    return group


def add_merchant(user: User, group: RequesterGroup, merchant_code: str) -> Merchant:
    """Put a merchant (by its code, of the group's PSP) into the group; commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    code = normalize_digits(merchant_code or "").strip()
    merchant = db.session.scalars(scoped(Merchant, user).where(
        Merchant.psp_id == group.psp_id, Merchant.code == code)).first() if code else None
    if merchant is None:
        raise RequesterError(404, "merchant", _("No merchant with code %(code)s.", code=code or "—"), "merchant_code")
    link = db.session.get(RequesterGroupMerchant, merchant.id)
    if link is not None:
        if link.group_id == group.id:
            return merchant
        raise RequesterError(409, "merchant_in_group", _("Merchant %(name)s is already in group %(group)s.",
                                                          name=merchant.name, group=link.group.name), "merchant_code")
    db.session.add(RequesterGroupMerchant(merchant_id=merchant.id, group_id=group.id))
    record("merchant_added", group, actor=user, merchant_id=merchant.id)
    db.session.commit()
    return merchant


def remove_merchant(user: User, group: RequesterGroup, merchant_id: int) -> None:
    require_role(user, Role.PSP, Role.ADMIN)
    link = db.session.get(RequesterGroupMerchant, merchant_id)
    if link is None or link.group_id != group.id:
        raise RequesterError(404, "merchant", _("This merchant is not in the group."), "merchant_id")
    db.session.delete(link)
    record("merchant_removed", group, actor=user, merchant_id=merchant_id)
    db.session.commit()


def add_requester(user: User, group: RequesterGroup, name: str, phone: str = "", email: str = "") -> DesignatedRequester:
    """Name a person who may open calls for the group's merchants (a phone or an e-mail, or both); commits."""
    require_role(user, Role.PSP, Role.ADMIN)
    name = normalize_text(name or "").strip()
    if not name or len(name) > 120:
        raise RequesterError(422, "name", _("Give the person's name (at most 120 characters)."), "name")
    phone = clean_phone(phone) if (phone or "").strip() else ""
    email = clean_email(email) if (email or "").strip() else ""
    if not phone and not email:
        raise RequesterError(422, "contact", _("Give the person's phone or e-mail (or both)."), "phone")
    for r in group.requesters:
        if r.active and ((phone and r.phone == phone) or (email and r.email == email)):
            raise RequesterError(409, "requester_exists", _("%(name)s already has this phone or e-mail in the "
                                                            "group.", name=r.name), "phone" if phone == r.phone else "email")
    person = DesignatedRequester(group_id=group.id, name=name, phone=phone, email=email)
    db.session.add(person)
    db.session.flush()
    record("requester_added", group, actor=user, requester_id=person.id, name=name, phone=phone, email=email)
    db.session.commit()
    return person


def deactivate_requester(user: User, group: RequesterGroup, requester_id: int) -> None:
    require_role(user, Role.PSP, Role.ADMIN)
    person = db.session.get(DesignatedRequester, requester_id)
    if person is None or person.group_id != group.id:
        raise RequesterError(404, "requester", _("This person is not named by the group."), "requester_id")
    person.active = False
    record("requester_removed", group, actor=user, requester_id=person.id)
    db.session.commit()


# --------------------------------------------------------------------------- checks and look-ups


def group_of(merchant_id: int) -> Optional[RequesterGroup]:
    """The active group the merchant belongs to, or None."""
    link = db.session.get(RequesterGroupMerchant, merchant_id)
    return link.group if link is not None and link.group.active else None


def restricted(merchant_id: int) -> bool:
    """True when only designated people may open calls for this merchant."""
    group = group_of(merchant_id)
    return group is not None and any(r.active for r in group.requesters)


def designated_for(merchant_id: int, phone: str = "", email: str = "") -> Optional[DesignatedRequester]:
    """The active designated person of the merchant's group with this phone or e-mail, or None."""
    group = group_of(merchant_id)
    if group is None:
        return None
    try:
        phone = normalize_phone(phone) if (phone or "").strip() else ""
    except ValueError:
        phone = ""
    email = (email or "").strip().lower()
    for r in group.requesters:
        if r.active and ((phone and r.phone == phone) or (email and r.email == email)):
            return r
    return None


def may_open(merchant_id: int, phone: str = "", email: str = "") -> bool:
    """Whether a call for the merchant from this phone/e-mail goes straight in (else it is held)."""
    return not restricted(merchant_id) or designated_for(merchant_id, phone, email) is not None


@dataclass
class Sender:
    """Who an e-mail address is: the merchants it may speak for, and the designated person if any."""

    merchants: list[Merchant] = field(default_factory=list)
    requester: Optional[DesignatedRequester] = None

    @property
    def known(self) -> bool:
        return bool(self.merchants)


def sender_by_email(address: str) -> Sender:
    """The merchants whose own e-mail is ``address`` and those of the groups naming it."""
    address = (address or "").strip().lower()
    if not address:
        return Sender()
    merchants = list(db.session.scalars(select(Merchant).where(
        func.lower(Merchant.email) == address, Merchant.active.is_(True)).order_by(Merchant.id)))
    person = db.session.scalars(select(DesignatedRequester).join(RequesterGroup).where(
        DesignatedRequester.email == address, DesignatedRequester.active.is_(True),
        RequesterGroup.active.is_(True)).order_by(DesignatedRequester.id)).first()
    if person is not None:
        seen = {m.id for m in merchants}
        merchants += [link.merchant for link in person.group.members if link.merchant_id not in seen]
    return Sender(merchants, person)


def merchants_by_phone(phone: str, psp_id: int | None = None) -> list[Merchant]:
    """Merchants whose phone is this number (any written form), then those of groups naming it."""
    try:
        canonical = normalize_phone(phone)
    except ValueError:
        return []
    q = select(Merchant).where(Merchant.phone_key == canonical, Merchant.active.is_(True))
    if psp_id is not None:
        q = q.where(Merchant.psp_id == psp_id)
    found = list(db.session.scalars(q.order_by(Merchant.id).limit(50)))
    people = select(DesignatedRequester).join(RequesterGroup).where(
        DesignatedRequester.phone == canonical, DesignatedRequester.active.is_(True), RequesterGroup.active.is_(True))
    if psp_id is not None:
        people = people.where(RequesterGroup.psp_id == psp_id)
    seen = {m.id for m in found}
    for person in db.session.scalars(people):
        for link in person.group.members:
            if link.merchant_id not in seen:
                found.append(link.merchant)
                seen.add(link.merchant_id)
    return found
