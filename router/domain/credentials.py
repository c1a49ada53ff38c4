"""Account rules (MLPS 2.0 level 3 as the reference): one form of a user name, and what a password must not be.

`common_passwords.txt` is the list Django ships (django/contrib/auth, BSD-3-Clause, 19,640 passwords
lowercased and deduplicated, from Royce Williams' list of the most common ones in breach data),
followed by a few patterns common in Chinese systems.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "fq_"  # every bearer token Fengqiao issues starts so: a mistyped header is told from a token


def secret_digest(secret: str) -> str:
    """What is stored of a token or a session cookie (SHA-256, hex): a leaked table opens nothing."""
    return hashlib.sha256(secret.encode()).hexdigest()


def normalise_user_name(name: str) -> str:
    """The one form a user name is stored and compared in: NFKC, case-folded, trimmed (`ａｄｍｉｎ ` is `admin`)."""
    # Case folding can undo NFKC (e.g. a folded ligature), hence the second pass.
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).strip()


@cache
def common_passwords() -> frozenset[str]:
    return frozenset((Path(__file__).parent / "common_passwords.txt").read_text(encoding="utf-8").split())


def password_problems(password: str, user_name: str) -> tuple[str, ...]:
    """What is wrong with `password` for the account `user_name`, in the operator's words; empty when it will do."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"密码至少{MIN_PASSWORD_LENGTH}位")
    folded = normalise_user_name(password)
    name = normalise_user_name(user_name)
    if name and name in folded:
        problems.append("密码不能包含用户名")
    if folded in common_passwords():
        problems.append("密码过于常见，容易被猜中")
    return tuple(problems)
