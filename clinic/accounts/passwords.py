"""Password hashing (argon2id) and one-time passwords."""

from __future__ import annotations

import asyncio
import secrets
from weakref import WeakKeyDictionary

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
MIN_LENGTH = 10
# A precomputed hash to verify against for unknown users, so timing does not reveal which names exist.
_DUMMY = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# argon2id takes 64 MiB and a quarter second of CPU per check, by design. Checks run off the event loop, at
# most this many at once per server process: forty parallel sign-ins then queue instead of taking 2.5 GB.
HASHING_SLOTS = 2
_slots: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = WeakKeyDictionary()


async def check_password(stored_hash: str | None, password: str) -> bool:
    """verify_password in a worker thread, waiting for one of HASHING_SLOTS (one limiter per event loop:
    a limiter belongs to the loop it was first used on)."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = anyio.CapacityLimiter(HASHING_SLOTS)
    return await anyio.to_thread.run_sync(verify_password, stored_hash, password, limiter=slots)


def one_time_password() -> str:
    # Easy to read aloud and type on a tablet: four groups of four from an unambiguous alphabet.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    groups = ["".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)
