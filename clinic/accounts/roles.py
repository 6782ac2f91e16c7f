"""Roles and the signed-in user. Which role may use which page is declared once, in `clinic.routes`;
the sets here are the names those declarations are written with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from clinic.i18n import _

ADMIN = "admin"
DOCTOR = "doctor"
NURSE = "nurse"
REGISTRATION = "registration"
PHARMACIST = "pharmacist"
ROLES = (ADMIN, DOCTOR, NURSE, REGISTRATION, PHARMACIST)

PUBLIC: frozenset[str] = frozenset({"*"})  # no sign-in needed
SIGNED_IN = frozenset(ROLES)
ADMINS = frozenset({ADMIN})
CLINICAL = frozenset({DOCTOR, NURSE})  # write clinical notes
DOCTORS = frozenset({DOCTOR})  # examine, diagnose and prescribe: the part of an encounter after the triage
CLINICAL_READERS = CLINICAL | ADMINS  # read clinical notes (the admin for audits and corrections)
REGISTRY_WRITE = frozenset({DOCTOR, NURSE, REGISTRATION})
REPORT_READERS = frozenset({DOCTOR, ADMIN})  # LB1 and the registers
PHARMACY = frozenset({PHARMACIST})  # dispenses prescriptions
# Permenkes 24/2022: an entry carries its author; only the author, or one of these roles, corrects it.
CORRECTS_OTHERS = ADMINS


@dataclass(frozen=True)
class CurrentUser:
    id: str
    username: str
    full_name: str
    roles: frozenset[str]  # one or more of ROLES: a small clinic may give one person several jobs
    must_change_password: bool

    @property
    def role(self) -> str:
        """The first of the user's roles in ROLES order (the administrator's first), for display."""
        return primary_role(self.roles)

    def has_any(self, roles: frozenset[str]) -> bool:
        return not self.roles.isdisjoint(roles)


def ordered(roles: Iterable[str]) -> tuple[str, ...]:
    """The known roles among `roles`, each once, in ROLES order."""
    chosen = set(roles)
    return tuple(role for role in ROLES if role in chosen)


def primary_role(roles: Iterable[str]) -> str:
    """The role kept in users.role: the first of a user's roles in ROLES order."""
    return (ordered(roles) or ("",))[0]


def role_label(role: str) -> str:
    return {
        ADMIN: _("Administrator"),
        DOCTOR: _("Doctor"),
        NURSE: _("Nurse"),
        REGISTRATION: _("Registration"),
        PHARMACIST: _("Pharmacist"),
    }.get(role, role)


def corrects_others(user: CurrentUser) -> bool:
    """Whether `user` may correct entries other people made (a device decides per visit with this and the author)."""
    return user.has_any(CORRECTS_OTHERS)


def may_correct(user: CurrentUser, author_id: str) -> bool:
    return user.id == author_id or corrects_others(user)
