//! The domain model as typed data.
//!
//! Every section is optional in a single file (`#[serde(default)]`) so that a workspace model can
//! extend the default one with only the parts it changes; `deny_unknown_fields` turns a typo into
//! a `model/invalid` diagnostic instead of a silently ignored key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A domain model: what the rules know about one operator code base.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DomainModel {
    /// A short name shown in the editor's status bar and in `check` output.
    pub name: Option<String>,
    /// What this model describes.
    pub description: Option<String>,
    /// Where a rule's explanation is published, with `{code}` replaced by the rule code
    /// (`capi-boundary/provider-read`). Used as the diagnostic's `codeDescription`.
    pub rule_docs_url: Option<String>,
    /// Where this model (the rules it drives) is documented: SARIF's `informationUri`.
    pub information_uri: Option<String>,
    /// Code components by path glob. The first component whose globs match a file wins.
    pub components: Vec<Component>,
    /// CAPI infrastructure providers and their API packages.
    pub providers: Vec<Provider>,
    /// The generic Cluster API objects that platform-agnostic code must use instead.
    pub capi: CapiCore,
    /// Ways of reaching the hosted (guest) cluster's API server from the management side.
    pub hosted_cluster_reach: HostedClusterReach,
    /// The contract of control-plane-operator adapt functions.
    pub adapt: AdaptContract,
    /// Condition naming conventions.
    pub conditions: ConditionConventions,
    /// Lifecycle states with sub-states, invariants and platform variations.
    pub lifecycle: Lifecycle,
    /// Which behaviours vary by platform, and how.
    pub platforms: PlatformMatrix,
    /// Kustomize conventions: deprecated fields and their replacements.
    pub kustomize: KustomizeModel,
    /// Code-action templates.
    pub code_actions: CodeActions,
    /// Hover entries for symbols and YAML fields not covered by the sections above.
    pub hover: Vec<HoverEntry>,
    /// Rule metadata: severity, title and the explanation `invariant-lsp explain` prints.
    pub rules: Vec<RuleDoc>,
    /// Domain flows: how a state or error travels across objects, step by step.
    pub flows: Vec<Flow>,
}

/// A domain flow (e.g. an error from a provider Machine to a NodePool condition), shown on
/// hover of the names that start or end it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Flow {
    pub id: String,
    pub title: String,
    /// Names whose hover shows this flow: provider Machine kinds, condition type constants.
    /// `"<provider-machine-kinds>"` stands for every provider's `machine_kinds`.
    pub shown_on: Vec<String>,
    pub steps: Vec<FlowStep>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FlowStep {
    /// The object the state moves to (`Machine`, `NodePool condition AllMachinesReady`).
    pub object: String,
    /// What happens at this step.
    pub does: String,
    /// The function that performs it (`(*CAPI).reconcileMachineDeploymentStatus`).
    pub function: Option<String>,
    /// Where that function lives, relative to the operator's repository (vendored code included).
    pub file: Option<String>,
}

/// Which side of the split-brain architecture a component runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// Runs on the management cluster (e.g. the hypershift-operator).
    Management,
    /// Runs in the hosted control plane namespace on the management cluster (e.g. the CPO).
    HostedControlPlane,
    /// Provider-specific code allowed to see provider objects.
    Platform,
    /// Runs in the hosted (guest) cluster.
    DataPlane,
    /// API type definitions.
    Api,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Component {
    /// Stable identifier, e.g. `nodepool-generic`.
    pub id: String,
    pub description: Option<String>,
    /// Path globs relative to the workspace root (`**` crosses directories).
    pub paths: Vec<String>,
    /// Path globs excluded from `paths`.
    pub exclude: Vec<String>,
    pub side: Option<Side>,
    /// Platform-agnostic code: it must read generic `Machine`s, never provider Machines.
    pub generic: bool,
    /// Provider ids whose Machine kinds this component may read (`"*"` for all).
    pub may_read_providers: Vec<String>,
    /// Whether this component may build clients for the hosted cluster's API server.
    pub may_reach_hosted_cluster: bool,
    /// Whether the adapt-function purity contract applies to functions in these files.
    pub adapt_functions: bool,
    /// What to do instead of reading a provider Machine here (the `{advice}` of
    /// `capi-boundary/provider-read`; `{provider}`, `{machine}`, `{platform_controller}`);
    /// `capi.provider_read_advice` when absent.
    pub provider_read_advice: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Provider {
    /// Short id, e.g. `aws`.
    pub id: String,
    /// Human name, e.g. `AWS (CAPA)`.
    pub name: String,
    /// The platform key in the platform matrix and in `spec.platform.type`, e.g. `AWS`.
    pub platform: Option<String>,
    /// Go import paths of the provider's API packages (globs allowed, e.g. `.../api/v1beta*`).
    pub packages: Vec<String>,
    /// Provider-specific Machine kinds: reading these from generic code crosses the boundary.
    pub machine_kinds: Vec<String>,
    /// Template kinds: owning and building these is how the NodePool controller works.
    pub template_kinds: Vec<String>,
    /// Other symbols of the provider package that generic code may use (GVKs, schemes).
    pub allowed_symbols: Vec<String>,
    /// The file that owns this provider's platform logic; the annotation bridge writes there.
    pub platform_controller: Option<String>,
    /// The Go package name of `platform_controller` (used when the file must be created).
    pub platform_controller_package: Option<String>,
    /// Markdown shown on hover over this provider's kinds.
    pub hover: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CapiCore {
    /// Import paths of the generic Cluster API packages (globs allowed).
    pub packages: Vec<String>,
    /// The generic Machine kind generic code must read instead of provider Machines.
    pub machine_kind: String,
    /// Symbols that every package may use to compute GVKs without reading objects.
    pub gvk_symbols: Vec<String>,
    /// The import path code actions add when a file needs the generic Machine.
    pub default_import: Option<String>,
    /// The alias used with `default_import`.
    pub default_alias: Option<String>,
    /// The default `{advice}` of `capi-boundary/provider-read` (see `Component`).
    pub provider_read_advice: Option<String>,
    /// Functions that fetch the object an object reference points to (CAPI's
    /// `external.Get`): called with a Machine's infrastructure reference, they read the
    /// provider Machine as unstructured data.
    pub object_ref_readers: Vec<CallPattern>,
    /// The generic Machine's reference to its provider Machine, as a field path
    /// (`Spec.InfrastructureRef`).
    pub machine_infrastructure_ref: Option<String>,
    /// A path element that makes such a reference a template's (`md.Spec.Template.Spec...`).
    pub template_ref_marker: Option<String>,
    /// How messages name the provider behind an infrastructure reference (unknown statically).
    pub any_provider_name: Option<String>,
    /// How messages name that provider's platform file.
    pub any_platform_controller: Option<String>,
    /// The rule whose title and first paragraph the hover on a provider Machine kind shows
    /// (why generic code must not read it), e.g. `capi-boundary/provider-read`.
    pub machine_kind_rule: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HostedClusterReach {
    /// Functions whose call alone builds a client for another cluster's API server.
    pub constructors: Vec<CallPattern>,
    /// Functions that turn a kubeconfig into a REST config. Only a finding when the same
    /// function also builds a client (`client_constructors`): parsing a kubeconfig for its
    /// host name reaches nothing.
    pub config_loaders: Vec<CallPattern>,
    /// Functions that build an API client from a REST config.
    pub client_constructors: Vec<CallPattern>,
    /// Markdown explaining the split-brain rule, shown in messages and hovers.
    pub explanation: Option<String>,
    /// The REST config type (`k8s.io/client-go/rest.Config`): a function returning one after
    /// loading a kubeconfig hands its caller a config for the hosted cluster.
    pub config_types: Vec<String>,
}

/// A set of package-level functions: `package` is an import path (glob), `functions` names (or `*`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CallPattern {
    pub package: String,
    pub functions: Vec<String>,
    /// Why this call matters, quoted in the finding.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AdaptContract {
    /// Regular expression a function or method name must match to be an adapt function.
    pub name_pattern: Option<String>,
    /// The first parameter's type (`import/path.TypeName`) that marks an adapt function.
    pub context_types: Vec<String>,
    /// Calls whose function-typed arguments are adapt functions (e.g. `WithAdaptFunction`).
    pub registration_calls: Vec<String>,
    /// Categories of impure operations. The category id becomes the rule name:
    /// `adapt-purity/<id>`.
    pub impure: Vec<ImpureCategory>,
    /// Category id used for writes to package-level variables.
    pub global_write_category: Option<String>,
    /// Methods that mutate the value they are called on: `cache.Set(..)` on a package-level
    /// variable is a write to package state.
    pub global_write_methods: Vec<String>,
    /// Appended to a finding's message when the function reaches the category at several call
    /// sites (`{n}`: how many more; all are in the related information).
    pub more_sites: Option<String>,
    /// Appended when the first helper on the chain also makes other adapt functions impure
    /// (`{helper}`, `{n}`: how many others).
    pub shared_helper: Option<String>,
    /// Markdown describing the contract, shown on hover over an adapt function.
    pub hover: Option<String>,
    /// Heading of the impurity chain in that hover.
    pub hover_impure: Option<String>,
    /// Shown in that hover when no impure operation was found.
    pub hover_pure: Option<String>,
    /// A chain step where a function calls the next one: `{function}`, `{callee}`.
    pub chain_call_step: Option<String>,
    /// The last chain step, the impure operation: `{function}`, `{description}` (the category's),
    /// `{what}` (the call, e.g. `time.Now`).
    pub chain_operation_step: Option<String>,
    /// Helpers whose impure operations the code base sanctions by design (e.g. propagating the
    /// management cluster's proxy settings to operands): a chain through one of them is no
    /// finding for the listed categories; the why is shown in hover and `explain`.
    pub sanctioned: Vec<SanctionedHelper>,
    /// Process-wide settings read where a per-cluster form exists: a chain through one of them
    /// from an adapt function (which runs per hosted control plane) is a per-cluster decision
    /// made from process state; the finding names the per-cluster form to use instead.
    pub per_cluster: Vec<PerClusterDecision>,
    /// A finding through a `per_cluster` entry: `{function}`, `{what}` (the chain), `{instead}`,
    /// `{why}`, `{more}`.
    pub per_cluster_message: Option<String>,
    /// Heading of the sanctioned chains in the adapt-function hover and in `explain`.
    pub sanctioned_heading: Option<String>,
    /// One sanctioned helper in hover and `explain`: `{helper}`, `{categories}`, `{why}`.
    pub sanctioned_line: Option<String>,
    /// Heading of the per-cluster decisions in `explain`.
    pub per_cluster_heading: Option<String>,
    /// One per-cluster decision in `explain`: `{helper}`, `{instead}`, `{why}`.
    pub per_cluster_line: Option<String>,
    /// Registration options that make the framework fetch the existing object and hand it to
    /// the adapt function (`ReconcileExisting`): the existing value is kept, so categories
    /// marked `silent_when_kept` are no finding for functions registered with one.
    pub keep_existing_options: Vec<String>,
    /// A read passed straight through to an operand (`os.Getenv(X)` whose value goes into an
    /// `EnvVar{Name: X}` a few lines on): operator-level configuration, no finding.
    pub pass_through: Option<PassThrough>,
}

/// See `AdaptContract::pass_through`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PassThrough {
    /// Categories whose operations may be passed through (e.g. `environment`).
    pub categories: Vec<String>,
    /// Composite literal types (`import/path.TypeName`) that carry the value to the operand.
    pub literal_types: Vec<String>,
    /// The literal's key that must name the same thing as the operation's first argument.
    pub name_field: String,
    /// How far after the operation (in bytes, same function) the literal may start.
    pub within_bytes: u32,
    /// Why this is fine (shown in `explain`).
    pub why: String,
}

/// A helper whose impure operations are sanctioned (see `AdaptContract::sanctioned`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SanctionedHelper {
    /// The helper's package import path.
    pub package: String,
    /// Function names (`Name`, or `Type.Method` for a method).
    pub functions: Vec<String>,
    /// Impure categories sanctioned through these functions (e.g. `environment`).
    pub categories: Vec<String>,
    /// Why the code base does this on purpose (shown in hover and `explain`).
    pub why: String,
}

/// A process-wide read used for a per-cluster decision (see `AdaptContract::per_cluster`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PerClusterDecision {
    /// The package import path of the process-wide helper.
    pub package: String,
    /// Function names (`Name`, or `Type.Method`).
    pub functions: Vec<String>,
    /// Impure categories this decision is made through (e.g. `environment`).
    pub categories: Vec<String>,
    /// The per-cluster form to use instead, as shown (`azureutil.IsAroHCPByHCP(hcp)`).
    pub instead: String,
    /// Why (shown in the finding and `explain`).
    pub why: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ImpureCategory {
    /// Rule name within `adapt-purity/`, e.g. `api-call`.
    pub id: String,
    /// What the operation is, e.g. `reads the clock`.
    pub description: String,
    /// Package functions in this category.
    pub calls: Vec<CallPattern>,
    /// Methods called on an API client: the receiver chain's last field matches
    /// `client_fields`, or the receiver's declared type is in `client_types`.
    pub client_methods: Vec<String>,
    /// Field names through which a client is reached (`Client` in `cpContext.Client.Get`).
    pub client_fields: Vec<String>,
    /// Types (`import/path.TypeName`) of client variables and parameters.
    pub client_types: Vec<String>,
    /// Methods in this category whatever their receiver (`RoundTrip`, `DialContext`).
    pub methods: Vec<String>,
    /// Variable names that hold a client of this category: `client.Do(req)` matches when
    /// `client` is listed here and `Do` in `client_methods`.
    pub receiver_names: Vec<String>,
    /// Only calls whose key is the adapted object itself (`client.ObjectKeyFromObject(obj)`,
    /// `obj` being the function's second parameter): reading back the object being adapted.
    pub adapted_object_only: bool,
    /// The operation does nothing without its first argument (a file path): when that argument
    /// is a parameter that every caller on the way leaves unset (an empty string, or a field
    /// missing from the options literal passed in), it never runs.
    pub needs_first_argument: bool,
    /// No finding for an adapt function registered with one of `keep_existing_options`, or
    /// that returns early when the adapted object already holds data: the existing value is
    /// kept (a key or certificate generated once).
    pub silent_when_kept: bool,
    /// With `adapted_object_only`: `true` counts only reads into the adapted object itself
    /// (`Get(ctx, key, obj)`), `false` only reads into another variable (copying a field of the
    /// live object); unset, both.
    pub into_adapted_object: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ConditionConventions {
    /// Regular expression a condition type or reason value must match (CamelCase, optionally
    /// behind a `domain.io/` prefix).
    pub value_pattern: String,
    /// Constant names matching this regular expression hold condition types.
    pub type_const_pattern: Option<String>,
    /// Constant names matching this regular expression name condition reasons (hover; the
    /// rule checks a constant as a reason only when it reaches a condition's reason).
    pub reason_const_pattern: Option<String>,
    /// The suffix of a reason constant's name (`Reason`): the quick fix looks for existing
    /// reason constants by it and names a new one `<Value><suffix>` in their case — exported
    /// beside exported ones (the published API, a package that exports its reasons), unexported
    /// (`<value><suffix>`) beside unexported ones and in a package that has none (a
    /// controller's own reasons are not API).
    pub reason_const_suffix: Option<String>,
    /// Files (globs) where every string constant is a condition type or reason (an API's
    /// `*_conditions.go`), whatever its name.
    pub const_files: Vec<String>,
    /// Constants whose names match this are exempt in `const_files` (prefixes, messages).
    pub exempt_const_pattern: Option<String>,
    /// Declared constant types that hold condition types (e.g. `ConditionType`).
    pub type_const_types: Vec<String>,
    /// Declared constant types that hold reasons.
    pub reason_const_types: Vec<String>,
    /// Condition struct types (`import/path.TypeName`) whose `Reason` and `Message` are checked.
    pub condition_types: Vec<String>,
    /// A Go file whose text contains none of these words has no condition constant or literal,
    /// so files outside the boundary and adapt components are not even parsed (a prefilter).
    /// Empty: every Go file is parsed.
    pub prefilter_words: Vec<String>,
    /// Keys that, all present in one composite literal, mark it as a condition.
    pub structural_keys: Vec<String>,
    /// Appended to findings on constants of the published API's conditions files
    /// (`const_files`): what changing the value means for users.
    pub published_value_note: Option<String>,
    /// Builder methods that set a condition's reason (apply configurations: `WithReason`).
    pub reason_builders: Vec<String>,
    /// A condition literal passed as `&x.Conditions` where `x`'s type is declared in the same
    /// package (no `.Status`: a data struct, e.g. one serialised into a ConfigMap's data) is not
    /// an API status: its literal reason is no finding.
    pub local_data_holders: bool,
    /// `x.Reason = ".."` is a condition reason unless `x` contains one of these words
    /// (case-insensitive): events have reasons too.
    pub non_condition_receivers: Vec<String>,
    /// A message that starts with a count matching this regular expression is a summary.
    pub count_summary_pattern: String,
    /// Example of a good summary message, quoted in findings.
    pub summary_example: String,
    /// A message listing a collection is bounded (no finding) when the collection's name, the
    /// loop it grows in, or the function building the message mentions one of these words
    /// (case-insensitive): a fixed, small set such as a pod's containers.
    pub message_bounded_words: Vec<String>,
    /// A message joining a collection that is not grown in a loop here (a parameter, a call's
    /// result) lists without bound when the collection's text mentions one of these words
    /// (case-insensitive): what grows with the cluster or the release.
    pub message_unbounded_words: Vec<String>,
    /// In YAML (`status.conditions[]`), a message that starts with a count matching this
    /// regular expression is a summary.
    pub yaml_count_summary_pattern: Option<String>,
    /// In YAML, a message of at least this many comma-, semicolon- or line-separated items
    /// (without a leading count) lists instead of summarising. 0 turns the check off.
    pub yaml_list_min_items: u32,
    /// Markdown shown on hover over condition constants.
    pub hover: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Lifecycle {
    pub states: Vec<LifecycleState>,
    /// Invariants checkable in manifests, referenced by id from the `lifecycle/*` rules.
    pub invariants: Vec<Invariant>,
    /// Which symbols or fields take part in which states, for hover.
    pub symbols: Vec<LifecycleSymbol>,
    /// Manifest kinds the `lifecycle/*` rules check, with the field paths each invariant reads.
    pub manifests: Vec<LifecycleManifest>,
}

/// A manifest kind checked by the `lifecycle/*` rules. Paths are dotted from the document
/// root (`spec.autoScaling.min`); `[]` visits every item of a list. A rule runs on a kind only
/// when the paths it reads are given.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleManifest {
    /// `kind:` of the manifest, e.g. `NodePool`.
    pub kind: String,
    /// API groups (`apiVersion` before the `/`) the kind is recognised in; empty: any.
    pub api_groups: Vec<String>,
    /// Maps holding `maxSurge` and `maxUnavailable` of a rolling update (`rollout-progress`).
    pub rolling_updates: Vec<String>,
    /// The replica count (`replicas-xor-autoscaling`).
    pub replicas: Option<String>,
    /// The autoscaling block (`replicas-xor-autoscaling`), with `min`/`max` inside (`autoscaling-bounds`).
    pub autoscaling: Option<String>,
    /// The upgrade type field and the value that selects in-place upgrades (`inplace-no-replace`).
    pub upgrade_type: Option<String>,
    pub in_place_value: Option<String>,
    /// Fields that only matter for replace upgrades.
    pub replace_fields: Vec<String>,
    /// The platform type field (`platform-type-matches-block`).
    pub platform_type: Option<String>,
    /// The map holding the per-platform blocks, and platform type → block key.
    pub platform_blocks_in: Option<String>,
    pub platform_blocks: BTreeMap<String, String>,
    /// The release image (`version-skew`): its tag carries the version.
    pub release_image: Option<String>,
    /// The field naming the control-plane object this one belongs to, and that object's kind.
    pub control_plane_name: Option<String>,
    pub control_plane_kind: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleState {
    pub name: String,
    pub sub_states: Vec<String>,
    pub constraints: Vec<String>,
    pub invariants: Vec<String>,
    pub failure_modes: Vec<String>,
    pub ordering: Vec<String>,
    /// Platform name → how this state plays out there.
    pub platform_variations: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Invariant {
    pub id: String,
    /// The invariant as the team says it, quoted in findings.
    pub text: String,
    pub states: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleSymbol {
    /// Go type or field names (`Machine`, `NodePool`, `MaxUnavailable`) and YAML keys
    /// (`maxUnavailable`) this entry describes.
    pub names: Vec<String>,
    pub states: Vec<String>,
    pub summary: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformMatrix {
    /// Platform names in column order.
    pub platforms: Vec<String>,
    /// Row name → platform → value.
    pub rows: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct KustomizeModel {
    pub deprecated_fields: Vec<DeprecatedField>,
    /// File names kustomize reads as a kustomization in a directory.
    pub kustomization_files: Vec<String>,
    /// Reference prefixes that name remote resources (never resolved on disk).
    pub remote_prefixes: Vec<String>,
    /// ArgoCD applications whose source paths must point at something deployable.
    pub argocd: ArgoCdModel,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ArgoCdModel {
    /// API groups of ArgoCD kinds.
    pub api_groups: Vec<String>,
    /// Kind → paths (dotted, `[]` for list items) of repository directories it deploys.
    pub path_fields: BTreeMap<String, Vec<String>>,
    /// Sibling keys that make a source something other than a repository directory (`chart`).
    pub skip_when_sibling: Vec<String>,
    /// Files that make a directory deployable (a kustomization, a Helm chart).
    pub deployable_files: Vec<String>,
    /// File extensions of plain manifests that make a directory deployable.
    pub manifest_extensions: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DeprecatedField {
    pub field: String,
    pub replacement: String,
    pub note: Option<String>,
    /// The value keeps its shape under the new key, so the quick fix renames the key.
    pub rename_fix: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CodeActions {
    pub annotation_bridge: Option<AnnotationBridge>,
    /// Title of the quick fix that inserts a suppression comment.
    pub suppress_title: Option<String>,
    /// Placeholder written where the reason goes in an inserted suppression. A suppression whose
    /// reason is still this placeholder (or any `<...>`) counts as having no reason.
    pub suppress_reason_placeholder: Option<String>,
    /// Title of the fix that replaces a provider Machine kind by its template kind where the
    /// sibling code uses template kinds; `{Template}` is the template kind.
    pub template_kind_title: Option<String>,
    /// Title of the fix that replaces a reason literal by a constant; `{Name}` is the constant.
    pub reason_constant_title: Option<String>,
    /// Title of the `source.fixAll.invariant` action (every automatic fix of a document).
    pub fix_all_title: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AnnotationBridge {
    /// The quick fix's title.
    pub title: String,
    /// Annotation keys start with this prefix, e.g. `hypershift.openshift.io/`.
    pub key_prefix: String,
    /// Go constant name for the key; `{Kind}` is the provider Machine kind, `{Field}` the last
    /// field read (`Status` when unknown).
    pub constant_name: String,
    /// The annotation key after the prefix; `{kind}` and `{field}` are kebab-cased.
    pub key_name: String,
    /// Go source appended to the platform controller file. Placeholders: `{Constant}`,
    /// `{Key}`, `{Kind}`, `{KindVar}`, `{ProviderAlias}`, `{CapiAlias}`, `{Function}`,
    /// `{FieldPath}` (`Status.FailureMessage`), `{ValueExpr}` (the value to write, dereferenced
    /// when the generic code treated it as a pointer) and `{Guard}` (when to write it).
    pub writer_template: String,
    /// Name of the writer function; same placeholders as `constant_name`.
    pub writer_function: String,
    /// Go expression that replaces the provider read in the generic file. Placeholders:
    /// `{Constant}`, `{MachineVar}`.
    pub reader_expression: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct HoverEntry {
    /// Go identifiers (types, fields, functions) or YAML keys this entry explains.
    pub names: Vec<String>,
    /// `go`, `yaml` or absent for both.
    pub language: Option<String>,
    pub markdown: String,
}

/// Severity of a finding. `off` disables a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Off,
    Hint,
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Off => "off",
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl Default for Severity {
    /// A rule without a severity is an error.
    fn default() -> Self {
        Severity::Error
    }
}

/// A rule. In a file merged over another model, only `code` is required: the fields given
/// change the rule of that code field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleDoc {
    /// `family/name`.
    pub code: String,
    #[serde(default)]
    pub severity: Severity,
    /// One line: what the rule finds.
    #[serde(default)]
    pub title: String,
    /// Path globs where this rule does not apply (e.g. tests that fabricate conditions).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// The finding's message, with `{placeholders}` the rule fills in (each rule's doc lists
    /// them). Keeps the wording, and the advice, in the model.
    #[serde(default)]
    pub message: Option<String>,
    /// Markdown: why it matters and what to do, printed by `invariant-lsp explain`.
    #[serde(default)]
    pub explanation: String,
    /// Extra tags for code scanning (SARIF `properties.tags`; the family is always one).
    /// `security` makes GitHub list the finding as a security alert.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How often a finding of this rule is right: `very-high`, `high`, `medium` or `low`
    /// (SARIF `properties.precision`; `high` when absent).
    #[serde(default)]
    pub precision: Option<String>,
    /// CVSS-like score 0.0–10.0 for rules that guard a security boundary (SARIF
    /// `properties.security-severity`).
    #[serde(default)]
    pub security_severity: Option<String>,
    /// The rule's own domain data: named lists (kinds, receiver names, package globs, ...) that
    /// the rule reads, so a new rule needs no new model section (each rule's doc lists its keys).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, Vec<String>>,
}
