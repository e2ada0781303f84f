"""JSON merge patch (RFC 7396) of the settings, and the validation of a patched document.

``PATCH /api/settings`` = ``validate_patch(current, body, defaults=..., secrets_present=...)``: the
patch is applied to the current document, members the patch set to ``null`` fall back to their
defaults, and the result is validated as a whole. Any error -> ``SettingsValidationError`` listing
every problem with its field path; nothing is returned, so nothing can be half-applied.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Collection
from typing import Any

from pydantic import BaseModel, ValidationError

from functions.settings.model import FieldError, Settings, SettingsValidationError, errors_from, field_path

__all__ = ["FILE_LOCATION_REASON", "PDL_KEY_SETTING", "apply_merge_patch", "is_blob_location",
           "profile_file_errors", "validate_patch"]

#: The app setting that must exist before the profile source may be People Data Labs.
PDL_KEY_SETTING = "PDL_API_KEY"

# A merged sync_users object is one choice among alternatives, not three independent settings: a
# member it no longer has is "not this source" rather than "the app-settings default" (otherwise
# switching from a default SYNC_TEAM to user ids could never pass the at-most-one rule).
_FILL_EMPTY = {("sync_users",): {"user_ids": [], "team": None, "role": None}}


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 ``MergePatch(target, patch)``, exactly: a non-object patch replaces the target; an
    object patch sets each member recursively, and a ``null`` member removes it. Neither argument is
    modified; the result shares no mutable parts with them."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = apply_merge_patch(result.get(name), value)
    return result


def _fill(document: dict[str, Any], defaults: dict[str, Any], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """Members missing from ``document`` (removed by a patch) taken from ``defaults``, recursively."""
    fallback = _FILL_EMPTY.get(path, defaults)
    out = dict(document)
    for name, default in fallback.items():
        if name not in out:
            out[name] = copy.deepcopy(default)
        elif isinstance(out[name], dict) and isinstance(default, dict):
            out[name] = _fill(out[name], defaults.get(name, default), (*path, name))
    return out


def _unknown_members(patch: dict[Any, Any], model: type[BaseModel], path: tuple[int | str, ...] = ()
                     ) -> list[FieldError]:
    """Unknown members anywhere in the patch, also those set to ``null``: a merge would silently drop
    them, but a client that sends them has a typo or a wrong idea of the schema."""
    errors = []
    for name, value in patch.items():
        if not isinstance(name, str) or name not in model.model_fields:
            errors.append(FieldError(field_path((*path, str(name))), "unknown field"))
            continue
        annotation = model.model_fields[name].annotation
        if isinstance(value, dict) and isinstance(annotation, type) and issubclass(annotation, BaseModel):
            errors += _unknown_members(value, annotation, (*path, name))
    return errors


#: Deepest nesting a patch may have. Settings are 3 levels deep (section -> list -> item); the bound
#: keeps the recursive merge and copy far from Python's recursion limit whatever a client sends.
MAX_PATCH_DEPTH = 16


def _too_deep(value: object, limit: int = MAX_PATCH_DEPTH) -> bool:
    # Iterative on purpose: a recursive check would fail on exactly the inputs it is there to refuse.
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def _has_secret(secrets_present: Callable[[str], bool] | Collection[str], name: str) -> bool:
    if callable(secrets_present):
        return bool(secrets_present(name))
    return name in secrets_present


def validate_patch(
    current: Settings,
    patch: object,
    *,
    defaults: Settings,
    secrets_present: Callable[[str], bool] | Collection[str],
) -> Settings:
    """The settings after applying the merge patch ``patch`` (parsed JSON) to ``current``.

    ``defaults``: ``defaults_from_config(config)``, what a member set to ``null`` falls back to (a
    ``sync_users`` member set to ``null`` means "not this source" instead, see ``_FILL_EMPTY``).
    ``secrets_present``: names of the app settings that are set (or a predicate); the profile source
    may only become ``pdl`` when ``PDL_API_KEY`` is among them.

    The profile source must be complete (``kind`` ``file`` needs ``file``; ``pdl`` needs the key)
    when the patch changes it or turns ``enabled`` on; an incomplete profile source from the app
    settings does not block unrelated changes (e.g. ``dry_run``) while disabled.

    Raises ``SettingsValidationError`` with every problem (field ``""`` = the body itself).
    """
    if not isinstance(patch, dict):
        raise SettingsValidationError([FieldError("", "must be a JSON object (a JSON merge patch)")])
    if _too_deep(patch):
        raise SettingsValidationError([FieldError("", f"is nested more than {MAX_PATCH_DEPTH} levels deep")])
    errors = _unknown_members(patch, Settings)
    merged = apply_merge_patch(current.to_json(), patch)
    document = _fill(merged, defaults.to_json())
    try:
        new = Settings.model_validate(document)
    except ValidationError as exc:
        seen = {e.field for e in errors}
        errors += [e for e in errors_from(exc) if e.field not in seen]
        raise SettingsValidationError(errors) from None
    if errors:
        raise SettingsValidationError(errors)
    source = new.profile_source
    if source != current.profile_source or (new.enabled and not current.enabled):
        if source.kind == "file" and source.file is None:
            errors.append(FieldError("profile_source.file", 'is required when kind is "file"'))
        if source.kind == "pdl" and not _has_secret(secrets_present, PDL_KEY_SETTING):
            errors.append(FieldError("profile_source.kind", f"{PDL_KEY_SETTING} app setting is not set"))
    if errors:
        raise SettingsValidationError(errors)
    return new


#: Why ``profile_source.file`` is refused (``profile_file_errors``).
FILE_LOCATION_REASON = ("must be blob://<container>/<name> in the configured storage account, or the "
                        "PROFILE_FILE app setting; other locations are set as the PROFILE_FILE app setting")


def is_blob_location(location: str) -> bool:
    """``blob://<container>/<name>``: a container (no ``/``) and a blob name, neither empty, no ``.`` or
    ``..`` segment and no backslash. Such a file is read from the storage account the app settings
    configure (PROFILE_STORAGE_ACCOUNT_URL / PROFILE_STORAGE_CONNECTION / STATE_STORAGE_CONNECTION), so
    the app's storage credential only ever goes to that account."""
    if not location.startswith("blob://") or "\\" in location:
        return False
    container, _, name = location[len("blob://"):].partition("/")
    segments = name.split("/")
    return bool(container) and bool(name) and not any(seg in ("", ".", "..") for seg in segments)


def profile_file_errors(new: Settings, old: Settings, *, defaults: Settings) -> list[FieldError]:
    """The settings API's rule for ``profile_source.file`` (docs/settings-api.md): a file set through
    the API is either ``blob://<container>/<name>`` or exactly the PROFILE_FILE app setting without its
    query (``defaults.profile_source.file``). Anything else - an https URL naming another host, a
    local path - would let whoever holds the admin role send the app's storage credential to a host of
    their choosing, or probe the app's file system; such locations are the deployer's to set, as the
    PROFILE_FILE app setting.

    Checked when the file changes, and when validation is being enabled (the file is read then); a
    stored value from before this rule does not block unrelated changes, e.g. disabling."""
    file = new.profile_source.file
    if file is None or not (file != old.profile_source.file or (new.enabled and not old.enabled)):
        return []
    if file == defaults.profile_source.file or is_blob_location(file):
        return []
    return [FieldError("profile_source.file", FILE_LOCATION_REASON)]
