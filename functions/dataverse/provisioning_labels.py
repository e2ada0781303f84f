"""Which label languages to send to an org, and the Web API label bodies for them.

Dataverse rejects (or silently misfiles) labels for languages the org has not provisioned, and
it wants a label in the org's base language. So we send English (1033) and German (1031) only
where provisioned, always send the base language first, and when the base language is neither,
send the English text under the base language code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

ENGLISH = 1033
GERMAN = 1031


@dataclass(frozen=True)
class Text:
    """One user-visible text in the two languages we ship."""

    en: str
    de: str

    def in_language(self, lcid: int) -> str:
        """German text for 1031, English for every other language code."""
        return self.de if lcid == GERMAN else self.en


@dataclass(frozen=True)
class LanguagePlan:
    """The language codes to label in, base language first."""

    base: int
    codes: tuple[int, ...]

    @property
    def others(self) -> tuple[int, ...]:
        """The non-base languages (sent via ``SetLocLabels`` for views)."""
        return self.codes[1:]

    def labels(self, text: Text) -> list[tuple[int, str]]:
        """``(language code, text)`` pairs in plan order."""
        return [(code, text.in_language(code)) for code in self.codes]

    def label_body(self, text: Text) -> dict[str, Any]:
        """A ``Microsoft.Dynamics.CRM.Label`` for metadata create bodies."""
        return {
            "@odata.type": "Microsoft.Dynamics.CRM.Label",
            "LocalizedLabels": [localized_label(code, value) for code, value in self.labels(text)],
        }


def localized_label(code: int, text: str) -> dict[str, Any]:
    """One ``Microsoft.Dynamics.CRM.LocalizedLabel``."""
    return {
        "@odata.type": "Microsoft.Dynamics.CRM.LocalizedLabel",
        "Label": text,
        "LanguageCode": code,
        "IsManaged": False,
    }


def plan_languages(provisioned: Iterable[int], base: int) -> LanguagePlan:
    """Choose label languages from what ``RetrieveProvisionedLanguages`` and the org report.

    The base language is always labelled (some orgs leave it out of the provisioned list), then
    English and German if provisioned. A base language other than English or German gets the
    English text, since Dataverse needs a base-language label.
    """
    available = set(provisioned) | {base}
    codes = [base] + [code for code in (ENGLISH, GERMAN) if code != base and code in available]
    return LanguagePlan(base=base, codes=tuple(codes))
