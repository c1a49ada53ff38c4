"""Exponential back-off, the one rule: a first wait, doubled at each step, never above a cap.

Webhook deliveries (router/domain/notify.py) and login attempts (api/login_limits.py) both wait so.
"""

from __future__ import annotations

from datetime import timedelta

_MAX_DOUBLINGS = 40  # 2**40 times any first wait is past every cap: no overflow however many steps


def doubling(first: timedelta, cap: timedelta, steps: int) -> timedelta:
    """`first` · 2^`steps` (`steps` ≥ 0), at most `cap`."""
    return min(first * 2 ** min(max(steps, 0), _MAX_DOUBLINGS), cap)
