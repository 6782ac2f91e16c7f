"""Roles and the signed-in user. Which role may use which page is declared once, in `clinic.routes`;
the sets here are the names those declarations are written with."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.i18n import _

ADMIN = "admin"
DOCTOR = "doctor"
NURSE = "nurse"
REGISTRATION = "registration"
ROLES = (ADMIN, DOCTOR, NURSE, REGISTRATION)

PUBLIC: frozenset[str] = frozenset({"*"})  # no sign-in needed
SIGNED_IN = frozenset(ROLES)
ADMINS = frozenset({ADMIN})
CLINICAL = frozenset({DOCTOR, NURSE})  # write clinical notes
CLINICAL_READERS = CLINICAL | ADMINS  # read clinical notes (the admin for audits and corrections)
REGISTRY_WRITE = frozenset({DOCTOR, NURSE, REGISTRATION})
# Permenkes 24/2022: an entry carries its author; only the author, or one of these roles, corrects it.
CORRECTS_OTHERS = ADMINS


@dataclass(frozen=True)
class CurrentUser:
    id: str
    username: str
    full_name: str
    role: str
    must_change_password: bool


def role_label(role: str) -> str:
    return {
        ADMIN: _("Administrator"),
        DOCTOR: _("Doctor"),
        NURSE: _("Nurse"),
        REGISTRATION: _("Registration"),
    }.get(role, role)


def may_correct(user: CurrentUser, author_id: str) -> bool:
    return user.id == author_id or user.role in CORRECTS_OTHERS
