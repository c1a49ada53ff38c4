"""Topic names, versioned with their contracts. A prefix lets several deployments share a cluster."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topics:
    prefix: str = ""

    @property
    def incidents(self) -> str:
        return f"{self.prefix}incidents.v1"

    @property
    def police(self) -> str:
        return f"{self.prefix}police.v1"

    @property
    def workorder_events(self) -> str:
        return f"{self.prefix}workorders.events.v1"

    @property
    def review(self) -> str:
        return f"{self.prefix}incidents.review.v1"

    @property
    def dead_letters(self) -> str:
        return f"{self.prefix}incidents.dlq.v1"

    @property
    def commands(self) -> str:
        return f"{self.prefix}workorders.commands.v1"

    @property
    def command_dead_letters(self) -> str:
        return f"{self.prefix}workorders.commands.dlq.v1"

    def centre_orders(self, centre_code: str) -> str:
        """A command centre's own order topic (`towns.<code>.orders.v1`)."""
        return f"{self.prefix}towns.{centre_code}.orders.v1"

    def fixed(self) -> tuple[str, ...]:
        return (self.incidents, self.police, self.workorder_events, self.review, self.dead_letters, self.commands,
                self.command_dead_letters)
