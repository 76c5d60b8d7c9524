"""The dbox error family.

Library code raises these; the CLI turns any of them into one ``Error: ...`` line on stderr and
exits with the class's ``exit_code``. The codes are documented in README.md ("Exit codes").
"""


class DboxError(Exception):
    """Base of every error dbox reports to the user as a clean one-liner."""

    exit_code = 1
    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class InputError(DboxError):
    """Bad input: a file, a row, a column, a filter expression, an argument value."""

    exit_code = 3


class StoreError(DboxError):
    """The contact store cannot be opened, is newer than this dbox, or is inconsistent."""

    exit_code = 4


class ConflictError(StoreError):
    """A row that must be unique is there already (often written by another process meanwhile)."""


class NotConfiguredError(DboxError):
    """A channel or network lacks its settings or secrets."""

    exit_code = 5


class ProviderError(DboxError):
    """A provider (Twilio, SMTP server, social network) refused or failed the whole operation."""

    exit_code = 6


class LockedError(DboxError):
    """Another dbox process holds the lock (for example a concurrent ``run-due``)."""

    exit_code = 7


class NotAllowedError(DboxError):
    """The database refused: this team member's role does not allow it (PostgreSQL store,
    docs/team.md). The CLI words it as "your role organizer cannot export contacts"."""

    exit_code = 8
