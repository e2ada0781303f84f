"""Idempotent provisioning: solution + publisher, contact columns, four system views, publish.

``provision(client, config)`` reads what exists, creates or fixes only what is missing or has
drifted, publishes only if it wrote something, and returns a ``ProvisioningReport`` whose
``binding`` tells later stages which column and option values mean "No longer at company".
A second run sends no write at all. With ``dry_run=True`` it only reads and reports what it
would do.

It refuses (``ProvisioningError``) rather than build on a wrong foundation: a solution owned by
a publisher with another prefix, a managed solution, a column of the wrong type or with
missing options, or (in ``msdyn_orgchangestatus`` mode) a missing Microsoft column.

Translated view names (``SetLocLabels`` / ``RetrieveLocLabels``) are best effort: they are set
after all four views exist, and a failure there (other than 401 or 429) becomes a report note, not
an error, so an org that does not take them still gets every view, published.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from functions.config import DataverseConfig, TargetColumn
from functions.dataverse import errors
from functions.dataverse.client import DataverseClient
from functions.dataverse.column import (
    DATETIME,
    MSDYN_ORGCHANGESTATUS,
    MSDYN_VALUES,
    PICKLIST,
    STRING,
    ColumnBinding,
    ColumnSpec,
    Flag,
    SupportingColumns,
    binding_from_options,
    flag_column_spec,
    option_values,
    supporting_column_specs,
)
from functions.dataverse.odata import odata_string, validate_guid
from functions.dataverse.provisioning_errors import (
    ColumnConflictError,
    ProvisioningError,
    PublishFailedError,
    SolutionConflictError,
)
from functions.dataverse.provisioning_labels import (
    ENGLISH,
    GERMAN,
    LanguagePlan,
    localized_label,
    plan_languages,
)
from functions.dataverse.provisioning_report import Action, Component, ProvisioningReport
from functions.dataverse.views import ViewSpec, desired_views

__all__ = [
    "Action",
    "ColumnBinding",
    "Component",
    "Flag",
    "ProvisioningError",
    "ProvisioningReport",
    "SupportingColumns",
    "provision",
]

PUBLISHED_ENTITIES = ("contact", "opportunity")
SOLUTION_VERSION = "1.0.0.0"
_CONTACT_ATTRIBUTES = "EntityDefinitions(LogicalName='contact')/Attributes"
# Metadata reads are cached server-side; right after our own create we need the new definition.
_STRONG = {"Consistency": "Strong"}
_PUBLISHER_SELECT = "publisherid,uniquename,friendlyname,customizationprefix,customizationoptionvalueprefix"
_COLUMN_KINDS = {PICKLIST: "choice", DATETIME: "date and time", STRING: "text"}


def provision(
    client: DataverseClient, config: DataverseConfig, *, dry_run: bool = False, force_publish: bool = False
) -> ProvisioningReport:
    """Make the org match what the app needs; see the module docstring.

    Args:
        client: the Web API client; its ``request_counts`` feed the report's request count.
        config: solution name, publisher prefix, option value prefix and target column.
        dry_run: only read; the report says what would be created or updated.
        force_publish: publish even if nothing changed (to finish a run whose publish failed).

    Raises:
        ProvisioningError: the org is in a state we must not build on (message says what to fix);
            ``PublishFailedError`` if everything was written but publishing failed.
        functions.dataverse.errors.DataverseError: a Web API call failed.
    """
    return _Provisioner(client, config, dry_run=dry_run, force_publish=force_publish).run()


@dataclass(frozen=True)
class _SolutionPlan:
    """What the read phase found about the solution and its publisher."""

    name: str
    prefix: str
    option_value_prefix: int
    publisher_name: str
    publisher_id: str | None  # None: the publisher has to be created
    exists: bool


@dataclass(frozen=True)
class _ColumnPlan:
    """What the read phase found about one column."""

    logical_name: str
    spec: ColumnSpec | None  # None: a column we never create (Microsoft's)
    exists: bool
    binding: ColumnBinding | None = None  # flag column that exists: its options, mapped


@dataclass
class _ViewPlan:
    """One view after the create/update pass: what was done and whether its other names need setting."""

    spec: ViewSpec
    name: str  # in the base language
    view_id: str
    created: bool
    set_names: bool  # the non-base-language names have to be (re)set with SetLocLabels
    fixed: list[str] = field(default_factory=list)  # what an update changed: "query/layout", "name"
    names_failed: bool = False  # SetLocLabels failed; the report has a note


# Errors that stop a run even in the best-effort localisation calls: the next call would fail alike.
_STOPS_THE_RUN = (errors.AuthenticationError, errors.ThrottledError)
_LANGUAGE_NAMES = {ENGLISH: "English", GERMAN: "German"}


def _language_names(codes: tuple[int, ...]) -> str:
    """``(1031,)`` -> ``"German (1031)"``, for notes."""
    return " and ".join(f"{_LANGUAGE_NAMES.get(code, 'language')} ({code})" for code in codes)


class _Provisioner:
    """Reads and checks everything first, then writes: a refusal never leaves half a setup behind."""

    def __init__(
        self, client: DataverseClient, config: DataverseConfig, *, dry_run: bool, force_publish: bool
    ) -> None:
        self.client = client
        self.config = config
        self.dry_run = dry_run
        self.force_publish = force_publish
        self.report = ProvisioningReport(
            solution=config.solution_name,
            publisher_prefix=config.publisher_prefix,
            dry_run=dry_run,
            target_column=config.target_column.value,
        )

    def run(self) -> ProvisioningReport:
        before = dict(self.client.request_counts)
        try:
            solution = self._check_solution()
            plan = self._languages()
            flag = self._check_flag_column(solution)
            supporting = [self._check_column(spec) for spec in supporting_column_specs(solution.prefix)]
            # Every check passed; from here on we only create what is missing and fix what drifted.
            self._apply_solution(solution)
            binding = self._apply_flag_column(flag, plan)
            for column in supporting:
                self._apply_column(column, plan)
            self.report.supporting_columns = SupportingColumns(
                validated_on=supporting[0].logical_name, current_employer=supporting[1].logical_name
            )
            self._ensure_views(binding, self.report.supporting_columns, plan)
            if (self.report.changed or self.force_publish) and not self.dry_run:
                self._publish()
        finally:
            after = dict(self.client.request_counts)
            self.report.requests = {k: after.get(k, 0) - before.get(k, 0) for k in after}
        return self.report

    # -- writes: the only three ways this class changes the org --------------------------------

    def _create(self, path: str, body: dict[str, Any], *, solution: bool = True) -> str:
        self._assert_may_write()
        return self.client.create(path, body, solution=self.config.solution_name if solution else None)

    def _update(self, entity_set: str, record_id: str, body: dict[str, Any]) -> None:
        self._assert_may_write()
        self.client.update(entity_set, record_id, body)

    def _action(self, name: str, body: dict[str, Any]) -> None:
        self._assert_may_write()
        # PublishXml and SetLocLabels set a state; repeating them after a lost answer is harmless.
        self.client.call_action(name, body, idempotent=True)

    def _assert_may_write(self) -> None:
        if self.dry_run:  # a bug, not an org problem: dry runs must never get here
            raise RuntimeError("provisioning tried to write during a dry run")

    def _record(self, kind: str, name: str, action: Action, detail: str = "") -> None:
        self.report.components.append(Component(kind, name, action, detail))

    def _would(self, action: Action) -> Action:
        if not self.dry_run:
            return action
        return Action.WOULD_CREATE if action is Action.CREATED else Action.WOULD_UPDATE

    # -- solution and publisher -----------------------------------------------------------------

    def _check_solution(self) -> _SolutionPlan:
        name = self.config.solution_name
        prefix = self.config.publisher_prefix
        rows = self.client.get_json(
            "solutions",
            params={
                "$select": "solutionid,uniquename,ismanaged,_publisherid_value",
                "$filter": f"uniquename eq {odata_string(name)}",
            },
        ).get("value", [])
        if not rows:
            return self._check_publisher()
        solution = rows[0]
        if solution.get("ismanaged"):
            raise SolutionConflictError(
                f"Solution {name} is managed; components can only be added to an unmanaged solution. "
                "Set DATAVERSE_SOLUTION to the name of an unmanaged solution (it is created if missing).",
                solution=name,
                expected_prefix=prefix,
                actual_prefix=None,
            )
        publisher = self.client.get_json(
            f"publishers({validate_guid(solution['_publisherid_value'])})",
            params={"$select": _PUBLISHER_SELECT},
        )
        actual = str(publisher.get("customizationprefix") or "")
        if actual.lower() != prefix:
            raise SolutionConflictError(
                f"Solution {name} belongs to publisher {publisher.get('uniquename')!r} with prefix "
                f"{actual!r}, but DATAVERSE_PUBLISHER_PREFIX is {prefix!r}. Nothing was created. "
                f"Set DATAVERSE_PUBLISHER_PREFIX={actual} to use this solution, "
                "or set DATAVERSE_SOLUTION to another solution name.",
                solution=name,
                expected_prefix=prefix,
                actual_prefix=actual,
            )
        return _SolutionPlan(
            name=name,
            prefix=prefix,
            option_value_prefix=self._option_value_prefix(publisher),
            publisher_name=str(publisher.get("uniquename")),
            publisher_id=validate_guid(publisher["publisherid"]),
            exists=True,
        )

    def _check_publisher(self) -> _SolutionPlan:
        prefix = self.config.publisher_prefix
        rows = self.client.get_json(
            "publishers",
            params={
                "$select": _PUBLISHER_SELECT,
                "$filter": f"customizationprefix eq {odata_string(prefix)}",
            },
        ).get("value", [])
        if rows:
            publisher = rows[0]
            return _SolutionPlan(
                name=self.config.solution_name,
                prefix=prefix,
                option_value_prefix=self._option_value_prefix(publisher),
                publisher_name=str(publisher.get("uniquename")),
                publisher_id=validate_guid(publisher["publisherid"]),
                exists=False,
            )
        return _SolutionPlan(
            name=self.config.solution_name,
            prefix=prefix,
            option_value_prefix=self.config.option_value_prefix,
            publisher_name=f"{prefix}datavalidation",
            publisher_id=None,
            exists=False,
        )

    def _option_value_prefix(self, publisher: dict[str, Any]) -> int:
        # New options follow the publisher's own option value prefix (Dataverse's convention);
        # the configured one only applies to a publisher we create.
        actual = publisher.get("customizationoptionvalueprefix")
        if actual is None:
            return self.config.option_value_prefix
        actual = int(actual)
        if actual != self.config.option_value_prefix:
            self.report.notes.append(
                f"publisher {publisher.get('uniquename')!r} has option value prefix {actual}, not the "
                f"configured {self.config.option_value_prefix}; new options use {actual}"
            )
        return actual

    def _apply_solution(self, solution: _SolutionPlan) -> None:
        publisher_id = solution.publisher_id
        if publisher_id is not None:
            self._record("publisher", solution.publisher_name, Action.EXISTS, f"prefix {solution.prefix}")
        else:
            body = {
                "uniquename": solution.publisher_name,
                "friendlyname": f"Data Validation ({solution.prefix})",
                "customizationprefix": solution.prefix,
                "customizationoptionvalueprefix": solution.option_value_prefix,
                "description": "Publisher of Data Validation for Dynamics 365.",
            }
            if not self.dry_run:
                # Publishers and solutions are not solution components: no solution header.
                publisher_id = validate_guid(self._create("publishers", body, solution=False))
            self._record(
                "publisher",
                solution.publisher_name,
                self._would(Action.CREATED),
                f"prefix {solution.prefix}, option values {solution.option_value_prefix}0000+",
            )
        if solution.exists:
            self._record("solution", solution.name, Action.EXISTS)
            return
        if not self.dry_run:
            body = {
                "uniquename": solution.name,
                "friendlyname": "Data Validation",
                "version": SOLUTION_VERSION,
                "description": "Columns and views of Data Validation for Dynamics 365.",
                "publisherid@odata.bind": f"/publishers({publisher_id})",
            }
            self._create("solutions", body, solution=False)
        self._record(
            "solution", solution.name, self._would(Action.CREATED), f"unmanaged, version {SOLUTION_VERSION}"
        )

    # -- languages --------------------------------------------------------------------------------

    def _languages(self) -> LanguagePlan:
        provisioned = self.client.call_function("RetrieveProvisionedLanguages").get(
            "RetrieveProvisionedLanguages", []
        )
        organizations = self.client.get_json("organizations", params={"$select": "languagecode"}).get(
            "value", []
        )
        base = int(organizations[0]["languagecode"]) if organizations else ENGLISH
        plan = plan_languages((int(code) for code in provisioned), base)
        self.report.languages = plan.codes
        return plan

    # -- columns ----------------------------------------------------------------------------------

    def _check_flag_column(self, solution: _SolutionPlan) -> _ColumnPlan:
        if self.config.target_column is TargetColumn.MSDYN_ORGCHANGESTATUS:
            return self._check_msdyn_column()
        expected = option_values(solution.option_value_prefix)
        spec = flag_column_spec(solution.prefix, expected)
        name = spec.logical_name
        fix = (
            f"Fix or delete contact.{name} in the org (provisioning never changes an existing column), "
            "or set DATAVERSE_PUBLISHER_PREFIX / DATAVERSE_SOLUTION to use another column."
        )
        attribute = self._read_attribute(name)
        if attribute is None:
            return _ColumnPlan(name, spec, exists=False)
        self._require_type(name, attribute, PICKLIST, fix)
        binding = binding_from_options(name, self._read_options(name), expected, fix=fix)
        return _ColumnPlan(name, spec, exists=True, binding=binding)

    def _check_msdyn_column(self) -> _ColumnPlan:
        fix = (
            "Install or repair Microsoft's LinkedIn Sales Navigator solution, which brings "
            f"contact.{MSDYN_ORGCHANGESTATUS} with options 0 No Feedback, 1 Not at Company, 2 Ignore, "
            "or set DATAVERSE_TARGET_COLUMN=own to let the app create its own column."
        )
        attribute = self._read_attribute(MSDYN_ORGCHANGESTATUS)
        if attribute is None:
            raise ColumnConflictError(
                f"Column contact.{MSDYN_ORGCHANGESTATUS} does not exist in this org, but "
                f"DATAVERSE_TARGET_COLUMN is {MSDYN_ORGCHANGESTATUS}. {fix}",
                column=MSDYN_ORGCHANGESTATUS,
            )
        self._require_type(MSDYN_ORGCHANGESTATUS, attribute, PICKLIST, fix)
        options = self._read_options(MSDYN_ORGCHANGESTATUS)
        binding = binding_from_options(MSDYN_ORGCHANGESTATUS, options, MSDYN_VALUES, fix=fix)
        return _ColumnPlan(MSDYN_ORGCHANGESTATUS, None, exists=True, binding=binding)

    def _check_column(self, spec: ColumnSpec) -> _ColumnPlan:
        name = spec.logical_name
        attribute = self._read_attribute(name)
        if attribute is None:
            return _ColumnPlan(name, spec, exists=False)
        fix = f"Delete or rename contact.{name} in the org; provisioning never changes an existing column."
        self._require_type(name, attribute, spec.attribute_type, fix)
        return _ColumnPlan(name, spec, exists=True)

    def _apply_flag_column(self, column: _ColumnPlan, plan: LanguagePlan) -> ColumnBinding:
        self._apply_column(column, plan)
        if column.binding is not None:
            binding = column.binding
        else:
            assert column.spec is not None  # only our own column can be missing
            expected = dict(column.spec.options)
            if self.dry_run:
                binding = ColumnBinding(column.logical_name, expected)
            else:
                # Read back what Dataverse stored, so the binding reflects the org, not our intention.
                options = self._read_options(column.logical_name)
                binding = binding_from_options(
                    column.logical_name, options, expected, fix="Dataverse did not store the options we sent."
                )
        self.report.binding = binding
        return binding

    def _apply_column(self, column: _ColumnPlan, plan: LanguagePlan) -> None:
        label = f"contact.{column.logical_name}"
        if column.spec is None:
            self._record("column", label, Action.EXISTS, "Microsoft's column, used as is")
            return
        kind = _COLUMN_KINDS[column.spec.attribute_type]
        if column.exists:
            self._record("column", label, Action.EXISTS, kind)
            return
        if column.spec.options:
            kind += ", values " + ", ".join(str(v) for v in column.spec.options.values())
        if not self.dry_run:
            self._create(_CONTACT_ATTRIBUTES, column.spec.create_body(plan))
        self._record("column", label, self._would(Action.CREATED), kind)

    def _read_attribute(self, logical_name: str) -> dict[str, Any] | None:
        try:
            return self.client.get_json(
                f"{_CONTACT_ATTRIBUTES}(LogicalName={odata_string(logical_name)})",
                params={"$select": "LogicalName,SchemaName,AttributeType"},
                headers=_STRONG,
                kind="metadata",
            )
        except errors.NotFoundError:
            return None

    def _read_options(self, logical_name: str) -> list[dict[str, Any]]:
        row = self.client.get_json(
            f"{_CONTACT_ATTRIBUTES}(LogicalName={odata_string(logical_name)})"
            "/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
            params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"},
            headers=_STRONG,
            kind="metadata",
        )
        return list((row.get("OptionSet") or {}).get("Options") or [])

    @staticmethod
    def _require_type(logical_name: str, attribute: dict[str, Any], expected: str, fix: str) -> None:
        actual = attribute.get("AttributeType")
        if (
            actual is None
        ):  # fall back to the metadata class, e.g. "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata"
            odata_type = str(attribute.get("@odata.type", ""))
            actual = odata_type.rsplit(".", 1)[-1].removesuffix("AttributeMetadata") or None
        if actual != expected:
            raise ColumnConflictError(
                f"Column contact.{logical_name} exists as {actual or 'an unknown type'}, "
                f"not {expected}. {fix}",
                column=logical_name,
            )

    # -- views ------------------------------------------------------------------------------------

    def _ensure_views(
        self, binding: ColumnBinding, supporting: SupportingColumns, plan: LanguagePlan
    ) -> None:
        # All four views are created and fixed first, their translated names set afterwards: setting
        # a name can then never leave a view missing (and a failure there is only a note anyway).
        views = [self._ensure_view(spec, plan) for spec in desired_views(binding, supporting)]
        for view in views:
            if view.set_names and not self.dry_run:
                view.names_failed = not self._set_other_language_names(view, plan)
            self._record_view(view, plan)

    def _ensure_view(self, spec: ViewSpec, plan: LanguagePlan) -> _ViewPlan:
        """Create the view or fix its query, layout and base-language name; names come later."""
        name = spec.name.in_language(plan.base)
        view_id = spec.savedquery_id(self.config.solution_name)
        row = self._find_view(spec, name, view_id)
        if row is None:
            if not self.dry_run:
                self._create("savedqueries", spec.create_body(plan, self.config.solution_name))
            return _ViewPlan(spec, name, view_id, created=True, set_names=bool(plan.others))
        existing_id = validate_guid(row["savedqueryid"])
        changes: dict[str, Any] = {}
        fixed: list[str] = []
        if spec.differs_from(row):
            changes.update(fetchxml=spec.fetchxml, layoutxml=spec.layoutxml)
            fixed.append("query/layout")
        if row.get("name") != name:
            changes["name"] = name
            fixed.append("name")
        # A renamed view gets all its names back; otherwise check the other-language names.
        set_names = "name" in changes or self._other_names_differ(spec, name, existing_id, plan)
        if changes and not self.dry_run:
            self._update("savedqueries", existing_id, changes)
        return _ViewPlan(spec, name, existing_id, created=False, set_names=set_names, fixed=fixed)

    def _record_view(self, view: _ViewPlan, plan: LanguagePlan) -> None:
        entity = view.spec.entity
        missing = f"{_language_names(plan.others)} name not set (see notes)" if view.names_failed else ""
        if view.created:
            self._record(
                "view", view.name, self._would(Action.CREATED), ", ".join(filter(None, [entity, missing]))
            )
            return
        fixed = list(view.fixed)
        if view.set_names and not view.names_failed and "name" not in fixed:
            fixed.append("translated name")
        if not fixed:
            # Nothing was written: a translated name that could not be set is a note, not a change.
            self._record("view", view.name, Action.EXISTS, ", ".join(filter(None, [entity, missing])))
            return
        detail = f"{entity}, {' and '.join(fixed)} changed" + (f"; {missing}" if missing else "")
        self._record("view", view.name, self._would(Action.UPDATED), detail)

    def _other_names_differ(self, spec: ViewSpec, name: str, view_id: str, plan: LanguagePlan) -> bool:
        """True if a translated view name is missing or not ours (e.g. a run stopped after the create).

        If ``RetrieveLocLabels`` fails (after the client's retries), the names are left as they are
        and the report gets a note: translated view names are not confirmed on every org.
        """
        if not plan.others:
            return False
        try:
            result = self.client.call_function(
                "RetrieveLocLabels",
                {
                    "EntityMoniker": {"@odata.id": f"savedqueries({view_id})"},
                    "AttributeName": "name",
                    "IncludeUnpublished": True,
                },
            )
        except _STOPS_THE_RUN:
            raise
        except errors.DataverseError as exc:
            self.report.notes.append(
                f"view {name!r} ({view_id}): could not read its {_language_names(plan.others)} name "
                f"(RetrieveLocLabels failed: {exc}); translated names left as they are"
            )
            return False
        stored = {
            int(label["LanguageCode"]): label.get("Label")
            for label in (result.get("Label") or {}).get("LocalizedLabels") or []
            if "LanguageCode" in label
        }
        return any(stored.get(code) != spec.name.in_language(code) for code in plan.others)

    def _find_view(self, spec: ViewSpec, name: str, view_id: str) -> dict[str, Any] | None:
        select = "savedqueryid,name,fetchxml,layoutxml"
        rows = self.client.get_json(
            "savedqueries",
            params={
                "$select": select,
                "$filter": (
                    f"returnedtypecode eq {odata_string(spec.entity)} and querytype eq 0 "
                    f"and name eq {odata_string(name)}"
                ),
            },
        ).get("value", [])
        if rows:
            # An admin's copy may carry the same name; prefer the view we created.
            return next((r for r in rows if str(r.get("savedqueryid", "")).lower() == view_id), rows[0])
        # Not found by name: it may be ours under another name (renamed by hand). Looking it up
        # by its stable id avoids a duplicate-key create and takes it back.
        try:
            return self.client.get_json(f"savedqueries({view_id})", params={"$select": select})
        except errors.NotFoundError:
            return None

    def _set_other_language_names(self, view: _ViewPlan, plan: LanguagePlan) -> bool:
        """Set the view's non-base-language names; False (and a note) if ``SetLocLabels`` failed.

        The client has already retried what is worth retrying. Any other Dataverse error (an org
        that does not take translated view names, a 500) leaves the view with its base-language
        name in every language: the run goes on, publishes, and the next run tries again. Only a
        lost token or throttling that outlasted the retries stops the run, as for any other call.
        """
        try:
            self._action(
                "SetLocLabels",
                {
                    "EntityMoniker": {
                        "@odata.type": "Microsoft.Dynamics.CRM.savedquery",
                        "savedqueryid": view.view_id,
                    },
                    "AttributeName": "name",
                    "Labels": [
                        localized_label(code, view.spec.name.in_language(code)) for code in plan.others
                    ],
                },
            )
        except _STOPS_THE_RUN:
            raise
        except errors.DataverseError as exc:
            self.report.notes.append(
                f"view {view.name!r} ({view.view_id}): could not set its {_language_names(plan.others)} name "
                f"(SetLocLabels failed: {exc}); it keeps its base-language name, the next run tries again"
            )
            return False
        return True

    # -- publish ----------------------------------------------------------------------------------

    def _publish(self) -> None:
        root = ET.Element("importexportxml")
        entities = ET.SubElement(root, "entities")
        for entity in PUBLISHED_ENTITIES:
            ET.SubElement(entities, "entity").text = entity
        try:
            self._action("PublishXml", {"ParameterXml": ET.tostring(root, encoding="unicode")})
        except errors.DataverseError as exc:
            # The next run finds everything in place and would not publish again: say how to finish.
            raise PublishFailedError(
                f"Components were created or updated, but publishing {', '.join(PUBLISHED_ENTITIES)} failed "
                f"({exc}). Publish them with `python -m functions provision --publish` "
                "(or Publish all customizations in the maker portal).",
                report=self.report,
                cause=exc,
            ) from exc
        self.report.published = True
