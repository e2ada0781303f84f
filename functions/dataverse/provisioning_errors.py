"""Errors raised by provisioning when the org is in a state we must not build on.

They are raised *before* anything is written under a wrong assumption, and their messages say
what an admin has to fix. Transport and Web API failures stay ``functions.dataverse.errors``.
"""

from __future__ import annotations


class ProvisioningError(Exception):
    """Base class: the org cannot be provisioned as configured. ``str(error)`` is the fix-it text."""


class SolutionConflictError(ProvisioningError):
    """The configured solution exists but cannot take our components (managed, wrong publisher)."""

    def __init__(
        self, message: str, *, solution: str, expected_prefix: str, actual_prefix: str | None
    ) -> None:
        super().__init__(message)
        self.solution = solution
        self.expected_prefix = expected_prefix
        self.actual_prefix = actual_prefix


class ColumnConflictError(ProvisioningError):
    """A column we need exists with the wrong type or options, or a column we rely on is missing."""

    def __init__(self, message: str, *, column: str) -> None:
        super().__init__(message)
        self.column = column


class PublishFailedError(ProvisioningError):
    """Components were written but ``PublishXml`` failed; a later run would see nothing to publish.

    ``report`` is the run's report so far; ``cause`` the Web API error.
    """

    def __init__(self, message: str, *, report: object, cause: Exception) -> None:
        super().__init__(message)
        self.report = report
        self.cause = cause
