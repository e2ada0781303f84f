"""Offline checks of the deployment templates: infra/*.bicep, infra/main.parameters.json, azure.yaml,
.funcignore.

No Bicep compiler runs offline, so the templates are parsed with pycep-parser and checked for what
matters: the app settings match what ``functions/config.py`` reads, no storage key can be used, the
security switches are set, and the app's identity gets exactly the data roles it needs. The checks
read the parsed structure, not the text, so formatting does not matter; a changed value does.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from pycep import BicepParser

from functions import config as app_config
from functions.config import ApiAuthMode, ConfigError, DataverseAuthMode, load_config

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
MAIN = INFRA / "main.bicep"
APP = INFRA / "modules" / "app.bicep"
BICEP_FILES = sorted(INFRA.rglob("*.bicep"))

# Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
KV_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
KV_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
# Roles that would let the app (or anyone holding its identity) manage resources or grant access.
PRIVILEGED_ROLES = {
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9": "User Access Administrator",
    "17d1049b-9a84-46fb-8f53-869881c3d3ab": "Storage Account Contributor",
    "00482a5a-887f-4fb3-b363-3b7fe8e74483": "Key Vault Administrator",
}

# Settings the platform reads (Functions host, Application Insights agent), not functions/config.py.
PLATFORM_SETTINGS = {
    "AzureWebJobsStorage__credential",
    "AzureWebJobsStorage__blobServiceUri",
    "AzureWebJobsStorage__queueServiceUri",
    "AzureWebJobsStorage__tableServiceUri",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    "MALLOC_ARENA_MAX",  # read by glibc in the worker process (docs/scan.md, "Memory")
}
# Settings App Service itself provides (not infra, not the code's default): infra must never set them,
# since a hand-set value would claim something the platform did not do. WEBSITE_AUTH_ENABLED is
# "True" while App Service Authentication is on; the settings API trusts X-MS-CLIENT-PRINCIPAL only
# then (API_AUTH=platform).
PROVIDED_BY_PLATFORM = {
    "WEBSITE_AUTH_ENABLED": "set by App Service when authentication (authsettingsV2) is on",
}
# Settings Flex Consumption rejects or ignores (runtime lives in functionAppConfig), plus keyed
# connection strings.
FORBIDDEN_SETTINGS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "FUNCTIONS_EXTENSION_VERSION",
    "WEBSITE_RUN_FROM_PACKAGE",
    "WEBSITE_CONTENTSHARE",
    "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    "SCM_DO_BUILD_DURING_DEPLOYMENT",
    "ENABLE_ORYX_BUILD",
    "WEBSITE_TIME_ZONE",
    "TZ",
    "AzureWebJobsStorage",
    "STATE_STORAGE_CONNECTION",
    "PROFILE_STORAGE_CONNECTION",
    "APPINSIGHTS_INSTRUMENTATIONKEY",
}
# Settings a deployment always decides; set unconditionally.
ALWAYS_SET = {
    "DATAVERSE_URL",
    "DATAVERSE_AUTH",
    "STATE_STORAGE_ACCOUNT_URL",
    "STATE_QUEUE_ACCOUNT_URL",
    "SCAN_SCHEDULE",
    "PROFILE_SOURCE",
    "PROFILE_FILE",
    "PROFILE_STORAGE_ACCOUNT_URL",
    "API_AUTH",
    "API_ADMIN_ROLE",
    "API_READER_ROLE",
}
# Every other setting config.py knows, and why infra leaves it to the code's default. A new setting in
# config.py fails test_every_config_setting_is_decided until it is set by infra or listed here.
LEFT_TO_DEFAULT = {
    "DATAVERSE_CLIENT_CERTIFICATE_PATH": "certificate mode needs a file on the instance; not offered",
    "DATAVERSE_CLIENT_CERTIFICATE_PASSWORD": "certificate mode is not offered by infra",
    "DATAVERSE_TIMEOUT_SECONDS": "tuning; the default fits",
    "PROFILE_INDEX_DIR": "the instance's own temp directory: local, private, rebuilt after a restart",
    "DATAVERSE_MAX_CONCURRENCY": "tuning; the client also follows x-ms-dop-hint",
    "DATAVERSE_WORKER_CONCURRENCY": "tuning (with SCAN_FANOUT=queue): each worker's share",
    "DATAVERSE_MAX_RETRIES": "tuning",
    "DATAVERSE_MAX_RETRY_WAIT_SECONDS": "tuning",
    "DATAVERSE_PAGE_SIZE": "tuning",
    "DATAVERSE_SOLUTION": "provisioning default (DataValidation)",
    "DATAVERSE_PUBLISHER_PREFIX": "provisioning default (dval)",
    "DATAVERSE_OPTION_VALUE_PREFIX": "provisioning default (41020)",
    "DATAVERSE_TARGET_COLUMN": "settings API (target_column)",
    "PROFILE_FILE_FORMAT": "taken from the file name",
    "PDL_BASE_URL": "PDL's production endpoint",
    "PDL_MIN_LIKELIHOOD": "settings API (profile_source.pdl_min_likelihood)",
    "PDL_BATCH_SIZE": "tuning",
    "PDL_TIMEOUT_SECONDS": "tuning",
    "PDL_MAX_RETRIES": "tuning",
    "PDL_MAX_LOOKUPS": "settings API (profile_source.pdl_max_lookups)",
    "SCAN_ENABLED": "settings API (enabled): enabling runs the preflight checks first",
    "SCAN_DRY_RUN": "settings API (dry_run)",
    "SYNC_USER_IDS": "settings API (sync_users)",
    "SYNC_TEAM": "settings API (sync_users)",
    "SYNC_ROLE": "settings API (sync_users)",
    "SCAN_LOOKUP_BUDGET": "settings API (lookup_budget)",
    "SCAN_REFRESH_DAYS": "settings API (refresh_days)",
    "SCAN_BATCH_SIZE": "tuning",
    "SCAN_FANOUT": "off by default; an operator turns the queue fan-out on (the batch queue exists)",
    "SCAN_FANOUT_WAIT_SECONDS": "tuning (with SCAN_FANOUT=queue)",
    "SCAN_FANOUT_SLOT_WAIT_SECONDS": "tuning (with SCAN_FANOUT=queue)",
    "STATE_TABLE_PREFIX": "default table names (dval...)",
    "SCAN_LOCK_TTL_SECONDS": "tuning",
    "SCAN_PROVISIONING_MAX_AGE_HOURS": "tuning",
    "CONTACT_PROFILE_URL_COLUMNS": "settings API (identity.profile_url_columns); none by default",
    "CONTACT_EMAIL_COLUMNS": "settings API (identity.extra_email_columns); emailaddress2, emailaddress3",
}
# Set only in some parameter combinations (see the conditional variables in app.bicep).
CONDITIONAL_SETTINGS = {
    "PDL_API_KEY",
    "DATAVERSE_TENANT_ID",
    "DATAVERSE_CLIENT_ID",
    "DATAVERSE_CLIENT_SECRET",
    "API_JWT_AUDIENCE",
    "API_JWT_ISSUER",
    "API_JWKS_URL",
}


# Resource type (prefix: child types share their parent's version) -> the API version reviewed for it.
API_VERSIONS = {
    "Microsoft.Resources/resourceGroups": "2022-09-01",
    "Microsoft.Web/": "2024-04-01",  # serverfarms, sites and their config / policies
    "Microsoft.Storage/storageAccounts": "2023-05-01",
    "Microsoft.KeyVault/vaults": "2023-07-01",
    "Microsoft.OperationalInsights/workspaces": "2023-09-01",
    "Microsoft.Insights/components": "2020-02-02",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
}


# ---------------------------------------------------------------------------------- parsing


@functools.cache
def parse(path: Path) -> dict[str, Any]:
    return BicepParser().parse(file_path=path)


def render(node: Any) -> str:
    """pycep's expression tree as one canonical string: `functionApp.identity.principalId`,
    `union(tags, {...})`. Identifiers and string literals look alike in pycep's output; the checks
    compare against names they know."""
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, str | int | float):
        return str(node)
    if isinstance(node, list):
        return "[" + ", ".join(render(item) for item in node) + "]"
    if isinstance(node, dict):
        if set(node) == {"function"}:
            function = node["function"]
            args = [render(v) for v in (function.get("parameters") or {}).values() if v is not None]
            return f"{function['type']}({', '.join(args)})"
        if set(node) == {"operator"}:
            operator = node["operator"]
            operands = [render(v) for v in operator["operands"].values()]
            if operator["type"] == "property_accessor":
                return ".".join(operands)
            return f"{operator['type']}({', '.join(operands)})"
        return "{" + ", ".join(f"{key}: {render(value)}" for key, value in node.items()) + "}"
    raise TypeError(f"unexpected node {node!r}")


@dataclass(frozen=True)
class Resource:
    symbol: str
    type: str
    body: dict[str, Any]
    condition: Any  # None when unconditional


def resources(doc: Mapping[str, Any], type_: str | None = None) -> list[Resource]:
    found = []
    for symbol, resource in doc.get("resources", {}).items():
        config = resource["config"]
        condition = None
        if "config" in config and ("condition" in config or "loop_type" in config):
            condition = config.get("condition")
            config = config["config"]
        if type_ is None or resource["type"] == type_:
            found.append(Resource(symbol, resource["type"], config, condition))
    return found


def one(doc: Mapping[str, Any], type_: str, **where: str) -> Resource:
    matches = [r for r in resources(doc, type_) if all(r.body.get(k) == v for k, v in where.items())]
    assert len(matches) == 1, f"expected one {type_} {where or ''}, found {[m.symbol for m in matches]}"
    return matches[0]


def variable(doc: Mapping[str, Any], name: str) -> Any:
    return doc["variables"][name]["value"]


def is_object_literal(node: Any) -> bool:
    return isinstance(node, dict) and set(node) not in ({"function"}, {"operator"})


def collect_settings(doc: Mapping[str, Any], node: Any, conditions: tuple = ()) -> dict[str, tuple]:
    """App settings from the `properties` of the appsettings resource: name -> (value, conditions).
    Follows variables, union() and `cond ? {} : {...}` (a branch's settings carry the condition)."""
    if isinstance(node, str) and node in doc.get("variables", {}):
        return collect_settings(doc, variable(doc, node), conditions)
    if isinstance(node, dict) and set(node) == {"function"} and node["function"]["type"] == "union":
        merged: dict[str, tuple] = {}
        for arg in node["function"]["parameters"].values():
            part = collect_settings(doc, arg, conditions)
            assert not set(part) & set(merged), f"settings set twice: {set(part) & set(merged)}"
            merged.update(part)
        return merged
    if isinstance(node, dict) and set(node) == {"operator"} and node["operator"]["type"] == "conditional":
        operands = node["operator"]["operands"]
        cond = operands["condition"]
        return {
            **collect_settings(doc, operands["true_value"], (*conditions, (cond, True))),
            **collect_settings(doc, operands["false_value"], (*conditions, (cond, False))),
        }
    assert is_object_literal(node), f"cannot read app settings from {render(node)}"
    return {name: (value, conditions) for name, value in node.items()}


@functools.cache
def app_settings() -> dict[str, tuple]:
    doc = parse(APP)
    settings = one(doc, "Microsoft.Web/sites/config", name="appsettings")
    assert settings.body["parent"] == function_app().symbol
    return collect_settings(doc, settings.body["properties"])


def function_app() -> Resource:
    return one(parse(APP), "Microsoft.Web/sites")


def config_setting_names() -> set[str]:
    mappings = [getattr(app_config, name) for name in dir(app_config) if name.endswith("_SETTINGS")]
    assert len(mappings) >= 5, "config.py's *_SETTINGS mappings moved; update this test"
    return {name for mapping in mappings if isinstance(mapping, dict) for name in mapping}


def trigger_sources() -> str:
    return "\n".join(p.read_text() for p in sorted((ROOT / "functions" / "triggers").glob("*.py")))


# -------------------------------------------------------------------------- evaluating settings

SAMPLE_URL = "https://contoso.crm4.dynamics.com"
SAMPLE_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SAMPLE_TENANT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
# What the deployment resolves these expressions to (public cloud), for building a sample environment.
SAMPLE_EXPRESSIONS = {
    "storage.properties.primaryEndpoints.blob": "https://stsample.blob.core.windows.net/",
    "storage.properties.primaryEndpoints.queue": "https://stsample.queue.core.windows.net/",
    "storage.properties.primaryEndpoints.table": "https://stsample.table.core.windows.net/",
    "appInsights.properties.ConnectionString": "InstrumentationKey=00000000-0000-0000-0000-000000000000",
    "keyVault.properties.vaultUri": "https://kv-sample.vault.azure.net/",
    "tenant().tenantId": SAMPLE_TENANT,
    "environment().authentication.loginEndpoint": "https://login.microsoftonline.com/",
}


def main_param_values(**overrides: Any) -> dict[str, Any]:
    """main.bicep's parameters: defaults, samples for the required ones, then the overrides."""
    values = {name: p["default"] for name, p in parse(MAIN)["parameters"].items()}
    values.update(environmentName="sample", location="westeurope", dataverseUrl=SAMPLE_URL,
                  apiClientId=SAMPLE_CLIENT_ID)
    values.update(overrides)
    return values


class DeploymentFails(Exception):
    """What ARM would do with an expression that cannot be evaluated (e.g. int() of a text)."""


def evaluate(doc: Mapping[str, Any], node: Any, params: Mapping[str, Any]) -> Any:
    """A tiny evaluator for what the settings use: parameters, variables, string interpolation,
    ==, !=, !, &&, ||, `c ? a : b` (only the chosen branch, like ARM's if()), empty(), int(),
    string(), and the resource properties in SAMPLE_EXPRESSIONS."""
    if isinstance(node, bool | int):
        return node
    if isinstance(node, str):
        if node in params:
            return params[node]
        if node in doc.get("variables", {}):
            return evaluate(doc, variable(doc, node), params)
        if "${" not in node:
            return node
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(reference(doc, m.group(1), params)), node)
    if isinstance(node, dict) and set(node) == {"operator"}:
        operator = node["operator"]
        operands = list(operator["operands"].values())
        if operator["type"] == "equals":
            return evaluate(doc, operands[0], params) == evaluate(doc, operands[1], params)
        if operator["type"] == "not_equals":
            return evaluate(doc, operands[0], params) != evaluate(doc, operands[1], params)
        if operator["type"] == "not":
            return not evaluate(doc, operands[0], params)
        if operator["type"] == "and":
            return all(evaluate(doc, operand, params) for operand in operands)
        if operator["type"] == "or":
            return any(evaluate(doc, operand, params) for operand in operands)
        if operator["type"] == "conditional":
            branches = operator["operands"]
            chosen = "true_value" if evaluate(doc, branches["condition"], params) else "false_value"
            return evaluate(doc, branches[chosen], params)
    if isinstance(node, dict) and set(node) == {"function"} and node["function"]["type"] == "empty":
        return not evaluate(doc, node["function"]["parameters"]["item_to_test"], params)
    if isinstance(node, dict) and set(node) == {"function"} and node["function"]["type"] in ("int", "string"):
        value = evaluate(doc, node["function"]["parameters"]["value_to_convert"], params)
        if node["function"]["type"] == "string":
            return str(value)
        try:
            return int(value)
        except ValueError:
            raise DeploymentFails(f"int({value!r})") from None
    text = render(node)
    assert text in SAMPLE_EXPRESSIONS, f"no sample value for {text}"
    return SAMPLE_EXPRESSIONS[text]


def reference(doc: Mapping[str, Any], text: str, params: Mapping[str, Any]) -> Any:
    """An identifier inside `${...}`: a parameter, a variable or a known resource property."""
    if text in params or text in doc.get("variables", {}):
        return evaluate(doc, text, params)
    assert text in SAMPLE_EXPRESSIONS, f"no sample value for ${{{text}}}"
    return SAMPLE_EXPRESSIONS[text]


def deployed_settings(**overrides: Any) -> dict[str, str]:
    """The app settings one deployment gets, for the given main.bicep parameters."""
    doc = parse(APP)
    params = main_param_values(**overrides)
    env = {}
    for name, (value, conditions) in app_settings().items():
        if all(bool(evaluate(doc, cond, params)) is want for cond, want in conditions):
            env[name] = str(evaluate(doc, value, params))
    return env


# ------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_bicep_file_parses_and_uses_plain_resources(path: Path) -> None:
    doc = parse(path)
    assert doc.get("resources") or doc.get("modules")
    for symbol, resource in doc.get("resources", {}).items():
        # One reviewed, GA API version per resource provider: a changed or new one is a conscious
        # decision (its schema may differ), not a drive-by.
        namespace = next((n for n in API_VERSIONS if resource["type"].startswith(n)), None)
        assert namespace, f"{symbol}: {resource['type']} has no reviewed API version in API_VERSIONS"
        assert resource["api_version"] == API_VERSIONS[namespace], (symbol, resource["api_version"])
    for symbol, module in doc.get("modules", {}).items():
        # Registry modules (br:, ts:) cannot be checked offline; only local files are allowed.
        assert module["type"] == "local", f"{symbol}: {module['detail']}"
        assert (path.parent / module["detail"]["path"]).is_file(), symbol


def test_every_bicep_file_is_checked() -> None:
    assert {MAIN, APP} <= set(BICEP_FILES)


def test_main_creates_the_resource_group_and_passes_every_parameter_through() -> None:
    main, app = parse(MAIN), parse(APP)
    assert main["globals"]["scope"]["value"] == "subscription"
    rg = one(main, "Microsoft.Resources/resourceGroups")
    assert rg.body["name"] == "rg-${environmentName}"
    module = main["modules"]["app"]
    assert module["config"]["scope"] == rg.symbol
    passed = module["config"]["params"]
    assert set(passed) == set(app["parameters"]), "module call and app.bicep parameters differ"
    # Same name on both sides, so the parameter-to-setting checks below hold for main.bicep too.
    assert all(passed[name] == name for name in passed)
    main_names = set(main["parameters"]) | set(main.get("variables", {}))
    assert set(passed) <= main_names


# Names a parameter carrying a secret value would have.
SECRET_NAME = re.compile(r"secret|password|apikey|api_key|(?<!client)key$", re.IGNORECASE)


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_secret_value_passes_through_the_templates(path: Path) -> None:
    """Secrets are set in Key Vault by the admin, never by a deployment: a secret parameter would be
    re-applied (overwriting a rotated secret) or dropped (when emptied) at every `azd provision`."""
    doc = parse(path)
    for name, param in doc.get("parameters", {}).items():
        assert {"type": "secure"} not in param["decorators"], f"@secure() parameter {name}"
        assert param["type"] != "secureObject", name
        assert not SECRET_NAME.search(name), f"{name} looks like a secret value"
    assert not resources(doc, "Microsoft.KeyVault/vaults/secrets"), "secret values belong to the admin"
    assert "@secure" not in path.read_text()


def test_azd_feeds_no_secret() -> None:
    text = (INFRA / "main.parameters.json").read_text()
    for name in ("PDL_API_KEY", "DATAVERSE_CLIENT_SECRET", "SECRET", "PASSWORD"):
        assert name not in text, name


def test_main_parameters_json_feeds_every_required_parameter_from_azd() -> None:
    params = json.loads((INFRA / "main.parameters.json").read_text())["parameters"]
    declared = parse(MAIN)["parameters"]
    assert set(params) <= set(declared), f"unknown parameters: {set(params) - set(declared)}"
    required = {name for name, p in declared.items() if p["default"] is None}
    assert required <= set(params), f"not fed by azd: {required - set(params)}"
    assert params["environmentName"]["value"] == "${AZURE_ENV_NAME}"
    assert params["location"]["value"] == "${AZURE_LOCATION}"
    assert params["principalId"]["value"] == "${AZURE_PRINCIPAL_ID}"
    for name, entry in params.items():
        assert re.fullmatch(r"\$\{[A-Z_]+(=[^}]*)?\}", entry["value"]), name
    schedule = params["scanSchedule"]["value"]
    assert schedule == "${SCAN_SCHEDULE=" + declared["scanSchedule"]["default"] + "}"


# ------------------------------------------------------------------------------- app settings


def test_every_config_setting_is_decided() -> None:
    """Each setting config.py reads is set by infra or deliberately left to its default."""
    code = config_setting_names()
    set_by_infra = set(app_settings()) - PLATFORM_SETTINGS
    assert not set(LEFT_TO_DEFAULT) & set_by_infra, "listed as left to default but set by infra"
    # Connection strings (STATE_STORAGE_CONNECTION, ...) carry account keys: never set in Azure.
    undecided = code - set_by_infra - set(LEFT_TO_DEFAULT) - FORBIDDEN_SETTINGS - set(PROVIDED_BY_PLATFORM)
    assert not undecided, f"config.py reads {sorted(undecided)}: set them in infra or list them here"
    assert set(LEFT_TO_DEFAULT) <= code, f"stale entries: {set(LEFT_TO_DEFAULT) - code}"
    assert set(PROVIDED_BY_PLATFORM) <= code, f"stale entries: {set(PROVIDED_BY_PLATFORM) - code}"


def test_infra_sets_only_settings_the_code_or_the_platform_reads() -> None:
    names = set(app_settings())
    unknown = names - config_setting_names() - PLATFORM_SETTINGS
    assert not unknown, f"nothing reads {sorted(unknown)}"
    assert not names & FORBIDDEN_SETTINGS, f"must not be set: {names & FORBIDDEN_SETTINGS}"
    assert not names & set(PROVIDED_BY_PLATFORM), "the platform sets these; infra must not fake them"


def test_always_set_and_conditional_settings() -> None:
    settings = app_settings()
    unconditional = {name for name, (_, conditions) in settings.items() if not conditions}
    assert unconditional >= ALWAYS_SET | PLATFORM_SETTINGS
    assert set(settings) - unconditional == CONDITIONAL_SETTINGS


def test_binding_expressions_and_connections_are_provided() -> None:
    """%NAME% in a binding and a binding's connection prefix must resolve on the host."""
    source = trigger_sources()
    unconditional = {name for name, (_, conditions) in app_settings().items() if not conditions}
    for name in re.findall(r"%([A-Za-z0-9_]+)%", source):
        assert name in unconditional, f"binding expression %{name}% has no app setting"
    connections = set(re.findall(r"connection\s*=\s*['\"]([A-Za-z0-9_]+)['\"]", source))
    for connection in connections:
        assert f"{connection}__credential" in unconditional, connection
        for service in ("blob", "queue", "table"):
            assert f"{connection}__{service}ServiceUri" in unconditional, (connection, service)


def test_setting_values() -> None:
    settings = {name: render(value) for name, (value, _) in app_settings().items()}
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    for service in ("blob", "queue", "table"):
        endpoint = f"storage.properties.primaryEndpoints.{service}"
        assert settings[f"AzureWebJobsStorage__{service}ServiceUri"] == endpoint
    assert settings["STATE_STORAGE_ACCOUNT_URL"] == "storage.properties.primaryEndpoints.table"
    assert settings["STATE_QUEUE_ACCOUNT_URL"] == "storage.properties.primaryEndpoints.queue"
    assert settings["PROFILE_STORAGE_ACCOUNT_URL"] == "storage.properties.primaryEndpoints.blob"
    assert settings["APPLICATIONINSIGHTS_CONNECTION_STRING"] == "appInsights.properties.ConnectionString"
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == "Authorization=AAD"
    # Parameters straight through (names checked against the parameter list).
    app_params = parse(APP)["parameters"]
    for name, param in {"DATAVERSE_URL": "dataverseUrl", "DATAVERSE_AUTH": "dataverseAuth",
                        "SCAN_SCHEDULE": "scanSchedule", "PROFILE_SOURCE": "profileSource",
                        "PROFILE_FILE": "profileFile", "API_AUTH": "apiAuthMode",
                        "API_ADMIN_ROLE": "apiAdminRole", "API_READER_ROLE": "apiReaderRole"}.items():
        assert settings[name] == param, name
        assert param in app_params, name


def test_secrets_are_key_vault_references() -> None:
    doc = parse(APP)
    vault = one(doc, "Microsoft.KeyVault/vaults")
    assert variable(doc, "pdlSecretName") == "pdl-api-key"
    assert variable(doc, "dataverseSecretName") == "dataverse-client-secret"
    for setting, secret_var in (("PDL_API_KEY", "pdlSecretName"),
                                ("DATAVERSE_CLIENT_SECRET", "dataverseSecretName")):
        value, conditions = app_settings()[setting]
        # Versionless URI: a new secret version is picked up without redeploying.
        assert value == ("@Microsoft.KeyVault(SecretUri=${" + vault.symbol + ".properties.vaultUri}secrets/${"
                         + secret_var + "})")
        assert conditions, setting


def test_secret_references_exist_exactly_when_their_mode_is_selected() -> None:
    pdl_reference = "@Microsoft.KeyVault(SecretUri=https://kv-sample.vault.azure.net/secrets/pdl-api-key)"
    secret_reference = ("@Microsoft.KeyVault(SecretUri=https://kv-sample.vault.azure.net/secrets/"
                        "dataverse-client-secret)")
    for source in ("file", "pdl"):
        settings = deployed_settings(profileSource=source)
        if source == "pdl":
            assert settings["PDL_API_KEY"] == pdl_reference
        else:
            assert "PDL_API_KEY" not in settings
    default = deployed_settings()
    assert default["DATAVERSE_AUTH"] == "managed_identity"
    assert not {"DATAVERSE_CLIENT_ID", "DATAVERSE_TENANT_ID", "DATAVERSE_CLIENT_SECRET"} & set(default)
    secret_mode = deployed_settings(dataverseAuth="client_secret", dataverseClientId=SAMPLE_CLIENT_ID)
    assert secret_mode["DATAVERSE_CLIENT_SECRET"] == secret_reference
    assert secret_mode["DATAVERSE_CLIENT_ID"] == SAMPLE_CLIENT_ID
    assert secret_mode["DATAVERSE_TENANT_ID"] == SAMPLE_TENANT
    # Both modes at once, and a client id alone does not switch the mode.
    both = deployed_settings(profileSource="pdl", dataverseAuth="client_secret",
                             dataverseClientId=SAMPLE_CLIENT_ID)
    assert both["PDL_API_KEY"] == pdl_reference
    assert both["DATAVERSE_CLIENT_SECRET"] == secret_reference
    assert "DATAVERSE_CLIENT_SECRET" not in deployed_settings(dataverseClientId=SAMPLE_CLIENT_ID)


def test_client_secret_mode_without_a_client_id_fails_the_deployment() -> None:
    """config.py rejects DATAVERSE_AUTH=client_secret without DATAVERSE_CLIENT_ID; the template must not
    deploy that combination (the guard fails the deployment instead of every function at start)."""
    with pytest.raises(DeploymentFails, match="DATAVERSE_CLIENT_ID"):
        deployed_settings(dataverseAuth="client_secret", dataverseClientId="")
    with pytest.raises(ConfigError, match="client_id"):
        load_config({"DATAVERSE_URL": SAMPLE_URL, "DATAVERSE_AUTH": "client_secret",
                     "DATAVERSE_TENANT_ID": SAMPLE_TENANT, "DATAVERSE_CLIENT_SECRET": "x"})
    # The guard is evaluated only on that branch: every other combination deploys.
    for overrides in ({}, {"dataverseClientId": ""}, {"dataverseAuth": "client_secret",
                                                      "dataverseClientId": SAMPLE_CLIENT_ID}):
        deployed_settings(**overrides)


def test_jwt_issuer_follows_the_cloud_and_v2_tokens() -> None:
    settings = {name: render(value) for name, (value, _) in app_settings().items()}
    assert settings["API_JWT_ISSUER"] == "${loginEndpoint}${tenantId}/v2.0"
    assert render(variable(parse(APP), "loginEndpoint")) == "environment().authentication.loginEndpoint"
    for name, value in settings.items():
        # A hard-coded authority is the public cloud's only (sovereign clouds differ).
        for host in ("sts.windows.net", "login.microsoftonline.com"):
            assert host not in value, name
    jwt = deployed_settings()
    assert jwt["API_JWT_ISSUER"] == f"https://login.microsoftonline.com/{SAMPLE_TENANT}/v2.0"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"apiAuthMode": "platform"},
        {"profileSource": "pdl"},
        {"dataverseAuth": "client_secret", "dataverseClientId": SAMPLE_CLIENT_ID},
    ],
    ids=["defaults", "platform-auth", "pdl", "client-secret"],
)
def test_deployed_settings_make_a_valid_config(overrides: dict[str, str]) -> None:
    """The settings a deployment gets load with config.py's own loader (no ConfigError)."""
    # App Service adds WEBSITE_AUTH_ENABLED=True because authsettingsV2 turns authentication on
    # (test_easy_auth_requires_an_entra_token): platform mode depends on it.
    env = {**deployed_settings(**overrides), "WEBSITE_AUTH_ENABLED": "True"}
    config = load_config(env)
    assert config.api.platform_auth_enabled is True
    params = main_param_values(**overrides)
    assert config.dataverse.url == SAMPLE_URL
    assert config.dataverse.auth.value == params["dataverseAuth"]
    assert config.api.auth.value == params["apiAuthMode"]
    assert config.storage_connection is None
    assert config.storage_account_url == SAMPLE_EXPRESSIONS["storage.properties.primaryEndpoints.table"]
    assert config.storage_queue_url == SAMPLE_EXPRESSIONS["storage.properties.primaryEndpoints.queue"]
    assert config.scan.schedule == "0 0 2 * * *"
    assert config.profiles is not None
    assert config.profiles.kind.value == params["profileSource"]
    assert config.profiles.storage_connection is None
    if config.api.auth is ApiAuthMode.JWT:
        assert SAMPLE_CLIENT_ID in config.api.jwt_audience
        assert f"https://login.microsoftonline.com/{SAMPLE_TENANT}/v2.0" in config.api.jwt_issuer
        assert config.api.jwks_url == f"https://login.microsoftonline.com/{SAMPLE_TENANT}/discovery/v2.0/keys"


def test_parameter_choices_match_the_code() -> None:
    params = parse(MAIN)["parameters"]

    def allowed(name: str) -> list[str]:
        return next(d["argument"] for d in params[name]["decorators"] if d["type"] == "allowed")

    # Only modes that work in Azure: not the emulator's `local`, not a developer's az login.
    in_azure = {m.value for m in DataverseAuthMode} - {"local", "default_credential"}
    assert set(allowed("dataverseAuth")) <= in_azure
    assert params["dataverseAuth"]["default"] == DataverseAuthMode.MANAGED_IDENTITY.value
    # Fail closed: `key` would make every function-key holder an admin, so infra never deploys it.
    assert set(allowed("apiAuthMode")) <= {m.value for m in ApiAuthMode} - {ApiAuthMode.KEY.value}
    assert params["apiAuthMode"]["default"] == ApiAuthMode.JWT.value
    assert set(allowed("profileSource")) == {"file", "pdl"}
    assert params["apiAdminRole"]["default"] == "DataValidation.Admin"
    assert params["apiReaderRole"]["default"] == "DataValidation.Reader"


# ---------------------------------------------------------------------------------- security


def test_no_account_key_or_keyed_connection_string_anywhere() -> None:
    texts = {p: p.read_text() for p in [*BICEP_FILES, INFRA / "main.parameters.json", ROOT / "azure.yaml"]}
    for path, text in texts.items():
        for needle in ("AccountKey", "listKeys", "DefaultEndpointsProtocol", "SharedAccessSignature",
                       "listAccountSas", "InstrumentationKey="):
            assert needle.lower() not in text.lower(), f"{needle} in {path.relative_to(ROOT)}"
    for name, (value, _) in app_settings().items():
        assert "AccountKey" not in render(value), name


def test_storage_account_accepts_entra_id_only() -> None:
    doc = parse(APP)
    storage = one(doc, "Microsoft.Storage/storageAccounts")
    props = storage.body["properties"]
    assert props["allowSharedKeyAccess"] is False
    assert props["minimumTlsVersion"] == "TLS1_2"
    assert props["supportsHttpsTrafficOnly"] is True
    assert props["allowBlobPublicAccess"] is False
    assert props["defaultToOAuthAuthentication"] is True
    assert len(resources(doc, "Microsoft.Storage/storageAccounts")) == 1
    for container in resources(doc, "Microsoft.Storage/storageAccounts/blobServices/containers"):
        assert container.body["properties"]["publicAccess"] == "None", container.symbol


def test_containers_and_run_queue_exist() -> None:
    doc = parse(APP)
    containers = {render(r.body["name"]) for r in
                  resources(doc, "Microsoft.Storage/storageAccounts/blobServices/containers")}
    deployment = function_app().body["properties"]["functionAppConfig"]["deployment"]["storage"]
    assert deployment["value"] == "${storage.properties.primaryEndpoints.blob}${deploymentContainerName}"
    assert "deploymentContainerName" in containers
    assert "profilesContainerName" in containers
    assert variable(doc, "profilesContainerName") == "profiles"
    assert main_param_values()["profileFile"].startswith("blob://profiles/")
    queues = resources(doc, "Microsoft.Storage/storageAccounts/queueServices/queues")
    from functions.state.batch_queue import BATCH_QUEUE_NAME
    from functions.state.run_queue import RUN_QUEUE_NAME

    names = sorted(variable(doc, queue.body["name"]) for queue in queues)
    assert names == sorted([RUN_QUEUE_NAME, BATCH_QUEUE_NAME])
    assert names == ["data-validation-batches", "data-validation-runs"]


def test_function_app_flex_consumption_python_311() -> None:
    doc = parse(APP)
    plan = one(doc, "Microsoft.Web/serverfarms")
    assert plan.body["sku"] == {"tier": "FlexConsumption", "name": "FC1"}
    assert plan.body["properties"]["reserved"] is True
    app = function_app()
    assert app.body["kind"] == "functionapp,linux"
    assert render(app.body["properties"]["serverFarmId"]) == f"{plan.symbol}.id"
    flex = app.body["properties"]["functionAppConfig"]
    assert flex["runtime"] == {"name": "python", "version": "3.11"}
    assert flex["deployment"]["storage"]["type"] == "blobContainer"
    assert flex["deployment"]["storage"]["authentication"] == {"type": "SystemAssignedIdentity"}
    assert set(flex["scaleAndConcurrency"]) == {"maximumInstanceCount", "instanceMemoryMB"}
    # azd finds the app by this tag (azure.yaml service `api`).
    tags = app.body["tags"]["function"]["parameters"]
    assert any(isinstance(t, dict) and t.get("'azd-service-name'") == "api" for t in tags.values())


def test_deployment_container_exists_before_the_app_points_at_it() -> None:
    doc = parse(APP)
    container = next(r for r in resources(doc, "Microsoft.Storage/storageAccounts/blobServices/containers")
                     if r.body["name"] == "deploymentContainerName")
    assert container.symbol in function_app().body.get("dependsOn", [])


def test_function_app_transport_and_publishing_security() -> None:
    doc = parse(APP)
    app = function_app()
    assert app.body["identity"] == {"type": "SystemAssigned"}
    props = app.body["properties"]
    assert props["httpsOnly"] is True
    assert props["siteConfig"]["minTlsVersion"] == "1.2"
    assert props["siteConfig"]["scmMinTlsVersion"] == "1.2"
    assert props["siteConfig"]["ftpsState"] == "Disabled"
    assert "appSettings" not in props["siteConfig"], "app settings belong in the appsettings resource"
    policy_type = "Microsoft.Web/sites/basicPublishingCredentialsPolicies"
    policies = {r.body["name"]: r for r in resources(doc, policy_type)}
    assert set(policies) == {"ftp", "scm"}
    for policy in policies.values():
        assert policy.body["parent"] == app.symbol
        assert policy.condition is None
        assert policy.body["properties"] == {"allow": False}


def test_application_insights_entra_only() -> None:
    doc = parse(APP)
    insights = one(doc, "Microsoft.Insights/components")
    assert insights.body["properties"]["DisableLocalAuth"] is True
    workspace = one(doc, "Microsoft.OperationalInsights/workspaces")
    assert render(insights.body["properties"]["WorkspaceResourceId"]) == f"{workspace.symbol}.id"


def test_storage_and_key_vault_stay_reachable_without_vnet_integration() -> None:
    """The Function App has no VNet integration, so it reaches storage (host, state, package) and Key
    Vault (the Key Vault references) over their public endpoints, with Entra ID as the gate. A
    locked-down account stops the host; a locked-down vault leaves every reference unresolved."""
    doc = parse(APP)
    for type_ in ("Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults"):
        props = one(doc, type_).body["properties"]
        assert props.get("publicNetworkAccess", "Enabled") == "Enabled", type_
        acls = props.get("networkAcls")
        if acls is not None:
            assert acls.get("defaultAction", "Allow") == "Allow", type_
            assert not acls.get("ipRules"), type_
            assert not acls.get("virtualNetworkRules"), type_
    assert "virtualNetworkSubnetId" not in function_app().body["properties"]
    assert not resources(doc, "Microsoft.Network/privateEndpoints")


def test_key_vault_uses_rbac() -> None:
    vault = one(parse(APP), "Microsoft.KeyVault/vaults")
    props = vault.body["properties"]
    assert props["enableRbacAuthorization"] is True
    assert props["enableSoftDelete"] is True
    assert "accessPolicies" not in props


def test_easy_auth_requires_an_entra_token() -> None:
    auth = one(parse(APP), "Microsoft.Web/sites/config", name="authsettingsV2")
    assert auth.body["parent"] == function_app().symbol
    assert auth.condition is None
    props = auth.body["properties"]
    assert props["platform"]["enabled"] is True
    validation = props["globalValidation"]
    assert validation["requireAuthentication"] is True
    assert validation["unauthenticatedClientAction"] == "Return401"
    # Only the anonymous health route is let through.
    assert validation.get("excludedPaths", []) == ["/api/health"]
    assert props["httpSettings"]["requireHttps"] is True
    entra = props["identityProviders"]["azureActiveDirectory"]
    assert entra["enabled"] is True
    assert entra["registration"]["clientId"] == "apiClientId"
    assert set(entra["validation"]["allowedAudiences"]) == {"apiClientId", "api://${apiClientId}"}


def test_role_assignments_are_least_privilege_and_target_the_app_identity() -> None:
    doc = parse(APP)
    role_ids = variable(doc, "roleIds")
    app = function_app().symbol
    granted: set[tuple[str, str, str]] = set()
    for assignment in resources(doc, "Microsoft.Authorization/roleAssignments"):
        props = assignment.body["properties"]
        definition = props["roleDefinitionId"]["function"]
        assert definition["type"] == "subscription_resource_id"
        assert definition["parameters"]["resource_type"] == "Microsoft.Authorization/roleDefinitions"
        role_ref = render(definition["parameters"]["resource_name_1"])
        assert role_ref.startswith("roleIds."), role_ref
        role = role_ids[role_ref.removeprefix("roleIds.")]
        assert role not in PRIVILEGED_ROLES, f"{assignment.symbol}: {PRIVILEGED_ROLES.get(role)}"
        # Scoped to one resource of this template, never the resource group or subscription.
        scope = assignment.body.get("scope")
        scoped = next(r for r in resources(doc) if r.symbol == scope)
        principal = render(props["principalId"])
        # Deterministic name: re-deploying updates instead of duplicating.
        name = render(assignment.body["name"])
        assert name.startswith(f"guid({scope}.id, "), name
        assert name.endswith(f"{role_ref})"), name
        if principal == f"{app}.identity.principalId":
            assert props["principalType"] == "ServicePrincipal"
            assert assignment.condition is None
            granted.add(("app", role, scoped.type))
        else:
            assert principal == "principalId", principal
            assert assignment.condition is not None, "admin roles only when a principal is given"
            granted.add(("admin", role, scoped.type))
    assert granted == {
        ("app", BLOB_DATA_OWNER, "Microsoft.Storage/storageAccounts"),
        ("app", QUEUE_DATA_CONTRIBUTOR, "Microsoft.Storage/storageAccounts"),
        ("app", TABLE_DATA_CONTRIBUTOR, "Microsoft.Storage/storageAccounts"),
        ("app", METRICS_PUBLISHER, "Microsoft.Insights/components"),
        ("app", KV_SECRETS_USER, "Microsoft.KeyVault/vaults"),
        ("admin", BLOB_DATA_CONTRIBUTOR, "Microsoft.Storage/storageAccounts"),
        ("admin", KV_SECRETS_OFFICER, "Microsoft.KeyVault/vaults"),
    }


def test_app_settings_wait_for_the_roles_and_secrets_they_use() -> None:
    doc = parse(APP)
    settings = one(doc, "Microsoft.Web/sites/config", name="appsettings")
    depends = set(settings.body["dependsOn"])
    app = function_app().symbol
    for assignment in resources(doc, "Microsoft.Authorization/roleAssignments"):
        if render(assignment.body["properties"]["principalId"]) == f"{app}.identity.principalId":
            assert assignment.symbol in depends, assignment.symbol



# -------------------------------------------------------------------------- azd and packaging


def test_azure_yaml_deploys_the_function_app() -> None:
    manifest = yaml.safe_load((ROOT / "azure.yaml").read_text())
    assert manifest["name"]
    assert manifest["infra"]["provider"] == "bicep"
    assert (ROOT / manifest["infra"]["path"] / f"{manifest['infra']['module']}.bicep") == MAIN
    assert set(manifest["services"]) == {"api"}
    api = manifest["services"]["api"]
    assert api["language"] == "python"
    assert api["host"] == "function"
    project = ROOT / api["project"]
    for required in ("function_app.py", "host.json", "requirements.txt"):
        assert (project / required).is_file(), required


def funcignored(path: str, patterns: list[str]) -> bool:
    """gitignore-style match of a repo-relative path against .funcignore (enough for this file's
    patterns: names and globs, no negation)."""
    parts = path.split("/")
    return any(fnmatch.fnmatch(part, pattern.rstrip("/")) for pattern in patterns for part in parts)


def test_funcignore_keeps_development_files_out_of_the_package() -> None:
    patterns = [line.strip() for line in (ROOT / ".funcignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert not any(p.startswith("!") for p in patterns)
    for excluded in ("tests/test_config.py", "benchmarks/x.py", "infra/main.bicep", "docs/setup.md",
                     "localdev/demo.py", "dataverse_emulator/server.py", "node_modules/a/b.js",
                     ".venv/bin/python", ".azure/dev/.env", "azure.yaml", "local.settings.json",
                     "requirements-dev.txt", "functions/__pycache__/config.cpython-311.pyc"):
        assert funcignored(excluded, patterns), excluded
    for kept in ("function_app.py", "host.json", "requirements.txt", "functions/config.py",
                 "functions/triggers/scan_timer.py", "functions/dataverse/client.py"):
        assert not funcignored(kept, patterns), kept
