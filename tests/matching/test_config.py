"""MatchingConfig: defaults, validation, settings round trip (pure)."""

from __future__ import annotations

import json

import pytest

from functions.matching import DEFAULT, FREE_MAIL_DOMAINS, MatchingConfig


def test_defaults_are_documented_values() -> None:
    assert DEFAULT.employer_same_score == 90.0
    assert DEFAULT.employer_different_score == 60.0
    assert DEFAULT.max_profile_age_days == 365
    assert DEFAULT.acronym_policy == "same"
    assert {"gmail.com", "web.de", "gmx.de", "outlook.com", "yahoo.com", "t-online.de"} <= FREE_MAIL_DOMAINS


@pytest.mark.parametrize(
    "settings",
    [
        {"employer_same_score": 50, "employer_different_score": 60},
        {"employer_same_score": 101},
        {"acronym_policy": "maybe"},
        {"max_profile_age_days": 0},
        {"min_match_likelihood": 11},
        {"employer_typo_max_fraction": 0.9},
        {"aliases": {"Meta": [1, 2]}},
        {"aliases": ["Meta"]},
    ],
)
def test_bad_settings_name_the_field(settings: dict) -> None:
    with pytest.raises(ValueError, match="MatchingConfig"):
        MatchingConfig.from_mapping(settings)


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_age"):
        MatchingConfig.from_mapping({"max_age": 3})


def test_round_trip_through_json() -> None:
    config = MatchingConfig.from_mapping(
        {
            "max_profile_age_days": 90,
            "aliases": {"Meta Platforms": ["Facebook", "FB"], "Alphabet": "Google"},
            "affiliates": {"Volkswagen": ["Audi", "Porsche"]},
            "extra_free_mail_domains": ["Example-Mail.DE"],
        }
    )
    assert config.aliases["Alphabet"] == ("Google",)
    assert "example-mail.de" in config.free_mail_domains
    again = MatchingConfig.from_mapping(json.loads(json.dumps(config.to_dict())))
    assert again.to_dict() == config.to_dict()


def test_config_is_frozen_and_hashable() -> None:
    config = MatchingConfig()
    with pytest.raises(AttributeError):
        config.max_profile_age_days = 3  # type: ignore[misc]
    assert hash(config) != hash(MatchingConfig())  # by identity: caches are per config object
    with pytest.raises(TypeError):
        config.aliases["x"] = ("y",)  # type: ignore[index]
