"""OData literal helpers. Callers MUST build ``$filter`` values through these, never by string pasting.

Dataverse parses ``$filter`` as OData: a quote inside a string literal ends the literal, so
``name eq 'O'Brien'`` is a syntax error at best and filter injection at worst. ``odata_string`` doubles
single quotes (``'O''Brien'``) as the OData ABNF requires; ``odata_guid`` only lets a real GUID through.
"""

from __future__ import annotations

import uuid

__all__ = ["odata_guid", "odata_string", "validate_guid"]


def odata_string(value: str) -> str:
    """Return ``value`` as a quoted OData string literal, e.g. ``O'Brien`` -> ``'O''Brien'``.

    Args:
        value: Any text; single quotes are doubled. Percent-encoding is left to the HTTP layer.

    Raises:
        TypeError: ``value`` is not a ``str`` (avoids silently quoting ``None`` as ``'None'``).
    """
    if not isinstance(value, str):
        raise TypeError(f"odata_string expects str, got {type(value).__name__}")
    return "'" + value.replace("'", "''") + "'"


def validate_guid(value: str | uuid.UUID) -> str:
    """Return the canonical lower-case form of a GUID (``8-4-4-4-12`` hex), braces allowed on input.

    Raises:
        ValueError: ``value`` is not a GUID (so it can never smuggle OData syntax into a URL or filter).
    """
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValueError(f"not a GUID: {value!r}")
    text = value.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    # uuid.UUID also accepts 32 bare hex digits and "urn:uuid:"; insist on the dashed 36-char form.
    if len(text) != 36 or text.count("-") != 4:
        raise ValueError(f"not a GUID: {value!r}")
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ValueError(f"not a GUID: {value!r}") from None


def odata_guid(value: str | uuid.UUID) -> str:
    """Return a GUID literal for ``$filter`` (OData GUID literals are unquoted): ``contactid eq <guid>``.

    Raises:
        ValueError: ``value`` is not a GUID.
    """
    return validate_guid(value)
