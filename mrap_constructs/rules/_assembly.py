"""A synthesized cloud assembly as the rules read it: stacks, their deploy waves, resources and file assets.

Values are read the way cdk-nag renders them (``flatten_reference``): literals stay literal, ``Fn::Join`` is joined
and references become ``<Id.Attr>``, so a rule can tell a literal ARN (resolved by AWS when a policy is saved) from a
reference (ordered by CloudFormation).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mrap_constructs._nag import flatten_reference
from mrap_constructs._policy_facts import as_list, missing_service_actions, statements  # noqa: F401 - for the rules


@dataclass
class StackArtifact:
    """One stack of the assembly."""

    name: str
    template_path: Path
    account: str
    region: str
    dependencies: list[str]
    template: dict[str, Any] = field(repr=False, default_factory=dict)

    def resources(self, resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """``(logical id, properties)`` of every resource of ``resource_type``."""
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") == resource_type:
                yield logical_id, resource.get("Properties", {})

    def resource(self, logical_id: str) -> dict[str, Any] | None:
        return self.template.get("Resources", {}).get(logical_id)


class Assembly:
    """The stacks of every template given (several assembly directories when stages are nested)."""

    def __init__(self, template_paths: list[str]) -> None:
        self.stacks: dict[str, StackArtifact] = {}
        self.asset_dirs: list[tuple[Path, Path]] = []  # (asset manifest, staged directory)
        wanted = {str(Path(p).resolve()) for p in template_paths}
        for directory in sorted({Path(p).resolve().parent for p in template_paths}):
            manifest = json.loads((directory / "manifest.json").read_text())
            artifacts = manifest.get("artifacts", {})
            # Stacks are named as CloudFormation (and the user) knows them: their stack name, not the artifact id
            # (hashed for a stack nested in a construct, e.g. ``Mediamediabucketuseast1A1B2C3D4``).
            names = {artifact_id: artifact.get("properties", {}).get("stackName", artifact_id)
                     for artifact_id, artifact in artifacts.items()
                     if artifact.get("type") == "aws:cloudformation:stack"}
            if len(set(names.values())) != len(names):  # one stack name in two environments: keep the ids apart
                names = {artifact_id: artifact_id for artifact_id in names}
            for artifact_id, artifact in artifacts.items():
                kind = artifact.get("type")
                if kind == "aws:cloudformation:stack":
                    path = (directory / artifact["properties"]["templateFile"]).resolve()
                    if str(path) not in wanted:
                        continue
                    account, region = artifact.get("environment", "aws://unknown/unknown").rsplit("/", 2)[-2:]
                    name = names[artifact_id]
                    self.stacks[name] = StackArtifact(
                        name=name, template_path=path, account=account, region=region,
                        dependencies=[names[d] for d in artifact.get("dependencies", []) if d in names],
                        template=json.loads(path.read_text()))
                elif kind == "cdk:asset-manifest":
                    assets = json.loads((directory / artifact["properties"]["file"]).read_text())
                    for asset in assets.get("files", {}).values():
                        source = asset.get("source", {})
                        staged = directory / source.get("path", "")
                        if source.get("packaging") == "zip" and staged.is_dir():
                            self.asset_dirs.append((directory / artifact["properties"]["file"], staged))

    @functools.cache  # noqa: B019 - one assembly per validation run
    def ancestors(self, stack: str) -> frozenset[str]:
        """Every stack ``stack`` depends on, directly or not (deployed before it)."""
        found: set[str] = set()
        for dependency in self.stacks[stack].dependencies:
            if dependency in self.stacks:
                found |= {dependency} | self.ancestors(dependency)
        return frozenset(found)

    def wave(self, stack: str) -> int:
        """1 for a stack with no stack dependencies, else one more than its latest dependency."""
        direct = [d for d in self.stacks[stack].dependencies if d in self.stacks]
        return 1 + max((self.wave(d) for d in direct), default=0)

    def deployed_before(self, earlier: str, later: str) -> bool:
        return earlier in self.ancestors(later)


def flat(value: Any) -> str:
    """``value`` as cdk-nag renders it (see the module docstring)."""
    return flatten_reference(value)




def referenced_id(value: Any) -> str | None:
    """The logical id a ``Ref`` / ``Fn::GetAtt`` points at, else None."""
    if isinstance(value, dict):
        if "Ref" in value:
            return value["Ref"]
        if "Fn::GetAtt" in value:
            target = value["Fn::GetAtt"]
            return target[0] if isinstance(target, list) else str(target).split(".")[0]
    return None



def replication_configurations(stack: StackArtifact) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(logical id, location, configuration)`` of every replication configuration the stack applies: on an
    ``AWS::S3::Bucket``, as the structured ``Rules`` of a ``BucketReplication``, or in the ``PutBucketReplication``
    payload of any other SDK-call custom resource."""
    for logical_id, props in stack.resources("AWS::S3::Bucket"):
        if "ReplicationConfiguration" in props:
            yield logical_id, "Properties.ReplicationConfiguration", _sdk_shape(props["ReplicationConfiguration"])
    for logical_id, resource in stack.template.get("Resources", {}).items():
        if not str(resource.get("Type", "")).startswith("Custom::"):
            continue
        properties = resource.get("Properties", {})
        if isinstance(properties.get("Rules"), list):  # BucketReplication's structured copy of its rules
            yield logical_id, "Properties.Rules", {"Rules": properties["Rules"]}
            continue
        # AwsCustomResource sends the same call on create and update; read the update only when it differs.
        phases = ["Create"] + (["Update"] if properties.get("Update") != properties.get("Create") else [])
        for phase in phases:
            raw = properties.get(phase)
            if raw is None:
                continue
            try:
                call = json.loads(_joined(raw))
            except (json.JSONDecodeError, TypeError):
                continue
            if call.get("action") == "PutBucketReplication":
                yield logical_id, f"Properties.{phase}", call.get("parameters", {}).get("ReplicationConfiguration", {})


def _joined(value: Any) -> str:
    """A ``Fn::Join`` of a JSON payload with its literal parts verbatim and each reference as ``<Id.Attr>``
    (``flat`` also rewrites ``${...}`` in literals, which would break the JSON)."""
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, items = value["Fn::Join"]
        return delimiter.join(item if isinstance(item, str) else flat(item) for item in items)
    return value if isinstance(value, str) else flat(value)


def _sdk_shape(configuration: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's ``ReplicationConfiguration`` (camel-case keys) in the SDK's shape (``Rules``, ``Filter``...)."""
    rules = []
    for rule in configuration.get("Rules", []):
        filter_ = rule.get("Filter", {})
        shaped: dict[str, Any] = {"Filter": {}} if "Filter" in rule else {}
        if "TagFilter" in filter_:
            shaped["Filter"]["Tag"] = filter_["TagFilter"]
        if "And" in filter_:
            shaped["Filter"]["And"] = {"Tags": filter_["And"].get("TagFilters", [])}
        if "DeleteMarkerReplication" in rule:
            shaped["DeleteMarkerReplication"] = rule["DeleteMarkerReplication"]
        if "Priority" in rule:
            shaped["Priority"] = rule["Priority"]
        destination = rule.get("Destination", {})
        shaped["Destination"] = {"Bucket": flat(destination.get("Bucket", "")), **{
            key: destination[key] for key in ("Metrics", "ReplicationTime", "EncryptionConfiguration")
            if key in destination}}
        if "SourceSelectionCriteria" in rule:
            shaped["SourceSelectionCriteria"] = rule["SourceSelectionCriteria"]
        shaped["ID"] = rule.get("Id", "")
        rules.append(shaped)
    return {"Rules": rules}


@dataclass(frozen=True)
class Finding:
    """One violation: which rule, where (stack, logical id, location in the resource), and what is wrong."""

    rule: str
    stack: str
    logical_id: str | None
    location: str
    message: str


#: The DNS suffix of an MRAP hostname (``mrap_constructs.access_point.GLOBAL_ENDPOINT_SUFFIX``).
MRAP_HOSTNAME_SUFFIX = ".accesspoint.s3-global.amazonaws.com"


@dataclass(frozen=True)
class MrapOrigin:
    """A CloudFront distribution origin that is an MRAP hostname, with what the rules need to know about it."""

    stack: StackArtifact
    logical_id: str  # the distribution
    location: str  # the origin, e.g. Properties.DistributionConfig.Origins[0]
    oac: dict[str, Any] | None  # the OriginAccessControlConfig of its OAC (in the same stack), else None
    mrap_name: str | None  # the MRAP's name, when the alias comes from the MRAP or an alias lookup by name
    buckets: list[tuple[StackArtifact, str, dict[str, Any]]]  # (stack, logical id, properties) of its buckets here


def mrap_origins(assembly: Assembly) -> Iterator[MrapOrigin]:
    """Every MRAP origin of every distribution; its MRAP and buckets are found when this assembly creates them."""
    mraps: dict[str, list[str]] = {}  # name -> bucket names
    buckets: dict[str, tuple[StackArtifact, str, dict[str, Any]]] = {}
    for stack in assembly.stacks.values():
        for _, props in stack.resources("AWS::S3::MultiRegionAccessPoint"):
            if isinstance(props.get("Name"), str):
                mraps[props["Name"]] = [flat(r.get("Bucket", "")) for r in props.get("Regions", [])]
        for logical_id, props in stack.resources("AWS::S3::Bucket"):
            if "BucketName" in props:
                buckets[flat(props["BucketName"])] = (stack, logical_id, props)
    for stack in assembly.stacks.values():
        for logical_id, props in stack.resources("AWS::CloudFront::Distribution"):
            for index, origin in enumerate(props.get("DistributionConfig", {}).get("Origins", [])):
                if not flat(origin.get("DomainName", "")).endswith(MRAP_HOSTNAME_SUFFIX):
                    continue
                oac_resource = stack.resource(referenced_id(origin.get("OriginAccessControlId")) or "") or {}
                oac = oac_resource.get("Properties", {}).get("OriginAccessControlConfig") \
                    if oac_resource.get("Type") == "AWS::CloudFront::OriginAccessControl" else None
                name = _mrap_name(stack, origin.get("DomainName"))
                yield MrapOrigin(stack, logical_id, f"Properties.DistributionConfig.Origins[{index}]", oac, name,
                                 [buckets[b] for b in mraps.get(name or "", []) if b in buckets])


def _mrap_name(stack: StackArtifact, domain: Any) -> str | None:
    """The MRAP name behind an origin domain ``Fn::Join`` of an alias: ``Fn::GetAtt`` of the MRAP (its ``Name``) or of
    an alias lookup custom resource (the ``Name`` parameter of its ``GetMultiRegionAccessPoint`` call)."""
    parts = domain["Fn::Join"][1] if isinstance(domain, dict) and "Fn::Join" in domain else []
    for part in parts:
        resource = stack.resource(referenced_id(part) or "") or {}
        properties = resource.get("Properties", {})
        if resource.get("Type") == "AWS::S3::MultiRegionAccessPoint":
            return properties.get("Name") if isinstance(properties.get("Name"), str) else None
        try:
            call = json.loads(_joined(properties.get("Create", "")))
        except (json.JSONDecodeError, TypeError):
            continue
        if call.get("action") == "GetMultiRegionAccessPoint":
            name = call.get("parameters", {}).get("Name")
            return name if isinstance(name, str) else None
    return None
