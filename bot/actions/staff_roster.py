"""Who is staff now: [staff] as the configuration file says it, re-read when it changes.

The facilitator's guide says to add yourself to [staff] and sign in. A running
service that kept the [staff] it read at start-up would refuse that member until a
restart; instead it looks at the file's modification time on each check (a stat,
cheap) and re-reads the file when it has changed. A file that no longer loads
(half-saved, a typo) leaves the last good [staff] in force, with a warning.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from threading import Lock

from bot.config import Config, ConfigError, StaffConfig, roles_in
from bot.config_loading import load_config

log = logging.getLogger(__name__)
# The services' own actors ("system:digest", "scheduler"), as staff read them.
SERVICE_PARTS = {"start-up": "start-up", "digest": "weekly digest", "coding": "coding answers"}


def actor_name(actor: str, staff: StaffConfig) -> str:
    """Who did something, as a person reads it. The audit log keeps the actor as it was
    ("staff:111": ids are stable, names change); this turns it into "Asha Patel" (from
    [staff.names]), "staff member 111" (no name given), the address of staff who sign in
    by email, "Command line (root)", or
    "The service (weekly digest)". Any other actor is shown as stored."""
    kind, _, rest = actor.partition(":")
    if kind == "staff" and rest.startswith("email:"):
        return rest.removeprefix("email:")  # an address is the name its owner signs in with
    if kind in ("staff", "telegram") and rest.isascii() and rest.isdigit():
        return staff.name_of(int(rest)) or f"staff member {rest}"
    if kind == "cli":
        return f"Command line ({rest})" if rest else "Command line"
    if kind == "system":
        return f"The service ({SERVICE_PARTS.get(rest, rest)})" if rest else "The service"
    if actor == "scheduler":
        return "The scheduler (a round's set time)"
    return actor


class StaffRoster:
    """The [staff] of a running service, kept in step with its configuration file."""

    def __init__(self, config: Config, environ: Mapping[str, str] | None = None) -> None:
        self._path = Path(config.source) if config.source != "built-in defaults" else None
        self._environ = environ
        self._staff = config.staff
        self._seen = self._modified()
        self._lock = Lock()

    def _modified(self) -> float | None:
        try:
            return self._path.stat().st_mtime_ns if self._path is not None else None
        except OSError:
            return None

    @property
    def staff(self) -> StaffConfig:
        """[staff] as the file says it now (the environment still wins)."""
        modified = self._modified()
        if modified is None or modified == self._seen:
            return self._staff
        with self._lock:
            if modified != self._seen:
                self._seen = modified
                try:
                    environ = os.environ if self._environ is None else self._environ
                    self._staff = load_config(self._path, environ).staff
                    log.info("re-read [staff] from %s", self._path)
                except ConfigError as error:
                    log.warning("kept the last [staff]: %s", error)
        return self._staff

    def roles(self, user_id: int | str) -> set[str]:
        """The roles a Telegram user id, or an email address, has now (admins have every role)."""
        return roles_in(self.staff, user_id)

    def who(self, actor: str) -> str:
        """An audit actor as a person reads it, with [staff.names] as the file says now."""
        return actor_name(actor, self.staff)

    @property
    def source(self) -> str:
        return str(self._path) if self._path is not None else "the built-in defaults"
