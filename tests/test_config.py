"""The typed config object: defaults, validation, and errors that name the setting."""

from __future__ import annotations

import pytest

from functions.config import ConfigError, DataverseAuthMode, TargetColumn, load_config

ORG = "https://contoso.crm4.dynamics.com"


def test_defaults_for_managed_identity() -> None:
    config = load_config({"DATAVERSE_URL": ORG + "/"})
    dv = config.dataverse
    assert dv.url == ORG
    assert dv.api_url == ORG + "/api/data/v9.2/"
    assert dv.scope == ORG + "/.default"
    assert dv.auth is DataverseAuthMode.MANAGED_IDENTITY
    assert dv.page_size == 5000
    assert dv.target_column is TargetColumn.OWN


def test_missing_url_is_named() -> None:
    with pytest.raises(ConfigError, match="DATAVERSE_URL: missing"):
        load_config({})


@pytest.mark.parametrize(
    ("env", "setting"),
    [
        ({"DATAVERSE_URL": "ftp://x"}, "DATAVERSE_URL"),
        ({"DATAVERSE_URL": ORG + "/api/data/v9.2"}, "DATAVERSE_URL"),
        ({"DATAVERSE_URL": "http://contoso.example"}, "DATAVERSE_URL"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_PAGE_SIZE": "5001"}, "DATAVERSE_PAGE_SIZE"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_MAX_CONCURRENCY": "0"}, "DATAVERSE_MAX_CONCURRENCY"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_WORKER_CONCURRENCY": "0"}, "DATAVERSE_WORKER_CONCURRENCY"),
        ({"DATAVERSE_URL": ORG, "SCAN_FANOUT_SLOT_WAIT_SECONDS": "-1"}, "SCAN_FANOUT_SLOT_WAIT_SECONDS"),
        ({"DATAVERSE_URL": ORG, "SCAN_FANOUT_SLOT_WAIT_SECONDS": "1801"}, "SCAN_FANOUT_SLOT_WAIT_SECONDS"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_PUBLISHER_PREFIX": "mscrmx"}, "DATAVERSE_PUBLISHER_PREFIX"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_PUBLISHER_PREFIX": "9ab"}, "DATAVERSE_PUBLISHER_PREFIX"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_OPTION_VALUE_PREFIX": "123"}, "DATAVERSE_OPTION_VALUE_PREFIX"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_TARGET_COLUMN": "mine"}, "DATAVERSE_TARGET_COLUMN"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_AUTH": "password"}, "DATAVERSE_AUTH"),
        ({"DATAVERSE_URL": ORG, "DATAVERSE_AUTH": "local"}, "DATAVERSE_AUTH"),
    ],
)
def test_bad_settings_are_named(env: dict[str, str], setting: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(env)
    assert str(info.value).startswith(setting + ":")


def test_client_secret_mode_names_what_is_missing_and_never_echoes_the_secret() -> None:
    secret = "s3cr3t-value-that-must-not-leak"
    with pytest.raises(ConfigError) as info:
        load_config(
            {"DATAVERSE_URL": ORG, "DATAVERSE_AUTH": "client_secret", "DATAVERSE_CLIENT_SECRET": secret}
        )
    assert "tenant_id" in str(info.value)
    assert "client_id" in str(info.value)
    assert secret not in str(info.value)


def test_client_secret_is_kept_secret() -> None:
    config = load_config(
        {
            "DATAVERSE_URL": ORG,
            "DATAVERSE_AUTH": "client_secret",
            "DATAVERSE_TENANT_ID": "00000000-0000-0000-0000-000000000001",
            "DATAVERSE_CLIENT_ID": "00000000-0000-0000-0000-000000000002",
            "DATAVERSE_CLIENT_SECRET": "abc",
        }
    )
    assert "abc" not in repr(config)
    assert config.dataverse.client_secret.get_secret_value() == "abc"


def test_local_auth_only_on_loopback() -> None:
    config = load_config({"DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local"})
    assert config.dataverse.auth is DataverseAuthMode.LOCAL
    with pytest.raises(ConfigError, match="DATAVERSE_AUTH"):
        load_config({"DATAVERSE_URL": ORG, "DATAVERSE_AUTH": "local"})


def test_blank_values_count_as_unset() -> None:
    config = load_config({"DATAVERSE_URL": ORG, "DATAVERSE_PAGE_SIZE": "  "})
    assert config.dataverse.page_size == 5000


def test_api_auth_defaults_to_function_key_with_the_documented_roles() -> None:
    config = load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com"})
    assert config.api.auth.value == "key"
    roles = (config.api.admin_role, config.api.reader_role)
    assert roles == ("DataValidation.Admin", "DataValidation.Reader")


def test_jwt_mode_names_every_missing_setting() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "JWT"})
    message = str(info.value)
    assert message.startswith("API_AUTH:")
    for name in ("API_JWT_AUDIENCE", "API_JWT_ISSUER", "API_JWKS_URL"):
        assert name in message


def test_jwt_settings_are_split_and_jwks_must_be_https() -> None:
    env = {
        "DATAVERSE_URL": "https://contoso.crm4.dynamics.com",
        "API_AUTH": "jwt",
        "API_JWT_AUDIENCE": "api://dval, 11111111-2222-3333-4444-555555555555",
        "API_JWT_ISSUER": "https://login.microsoftonline.com/t/v2.0",
        "API_JWKS_URL": "http://keys.example.com/keys",
    }
    with pytest.raises(ConfigError, match="API_JWKS_URL"):
        load_config(env)
    config = load_config({**env, "API_JWKS_URL": "https://login.microsoftonline.com/t/discovery/v2.0/keys"})
    assert config.api.jwt_audience == ("api://dval", "11111111-2222-3333-4444-555555555555")


def test_unknown_api_auth_mode_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^API_AUTH:"):
        load_config({"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "basic"})


@pytest.mark.parametrize(("value", "enabled"), [(None, False), ("True", True), ("true", True),
                                                ("False", False), ("1", False), ("nonsense", False)])
def test_website_auth_enabled_is_read_and_never_a_config_error(value: str | None, enabled: bool) -> None:
    # WEBSITE_AUTH_ENABLED is injected by App Service when App Service Authentication is on; only "true"
    # (any case) counts, and an odd value must not stop the timer or the worker from loading the config.
    env = {"DATAVERSE_URL": "https://contoso.crm4.dynamics.com", "API_AUTH": "platform"}
    if value is not None:
        env["WEBSITE_AUTH_ENABLED"] = value
    assert load_config(env).api.platform_auth_enabled is enabled


def test_a_sas_token_in_the_profile_file_never_shows_in_the_config_repr() -> None:
    config = load_config({
        "DATAVERSE_URL": "https://contoso.crm4.dynamics.com",
        "PROFILE_FILE": "https://acct.blob.core.windows.net/c/p.jsonl?sv=2022&sig=SECRETSIG",
    })
    assert "SECRETSIG" not in repr(config)
    assert "SECRETSIG" not in str(config)
    assert config.profiles.file.endswith("sig=SECRETSIG")


def test_a_lock_shorter_than_one_requests_retry_budget_is_refused() -> None:
    base = {"DATAVERSE_URL": "http://127.0.0.1:5555", "DATAVERSE_AUTH": "local"}
    with pytest.raises(ConfigError, match="SCAN_LOCK_TTL_SECONDS: must be longer") as caught:
        load_config({**base, "SCAN_LOCK_TTL_SECONDS": "300"})
    assert "600 s" in str(caught.value)
    with pytest.raises(ConfigError, match="1200 s"):
        load_config({**base, "SCAN_LOCK_TTL_SECONDS": "900", "DATAVERSE_MAX_RETRY_WAIT_SECONDS": "600"})
    assert load_config({**base, "SCAN_LOCK_TTL_SECONDS": "601"}).scan.lock_ttl_seconds == 601


def test_a_batch_worker_gets_its_share_of_the_dataverse_concurrency() -> None:
    from functions.pipeline.batch_worker import worker_config

    config = load_config({"DATAVERSE_URL": ORG})
    assert (config.dataverse.max_concurrency, config.dataverse.worker_concurrency) == (8, 1)
    assert config.scan.fanout_slot_wait_seconds == 600
    assert worker_config(config).dataverse.max_concurrency == 1
    assert worker_config(config).dataverse.url == ORG  # only the concurrency differs
    wide = load_config({"DATAVERSE_URL": ORG, "DATAVERSE_MAX_CONCURRENCY": "3",
                        "DATAVERSE_WORKER_CONCURRENCY": "5"})
    assert worker_config(wide) is wide  # a share above the total is the total: nothing to change
