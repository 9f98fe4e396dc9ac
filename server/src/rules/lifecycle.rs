//! `lifecycle/*`: the model's lifecycle invariants, checked on manifests (NodePool,
//! HostedCluster, CAPI MachineDeployment; kinds and field paths come from
//! `lifecycle.manifests`). A manifest that a kustomization applies as a strategic-merge patch is
//! checked as merged over the resource it patches, and a finding is reported in the patch only
//! when the patch sets one of the fields involved (the base reports its own problems).
//!
//! - `rollout-cannot-progress` (`rollout-progress`): `maxSurge` and `maxUnavailable` both 0.
//! - `replicas-with-autoscaling` (`replicas-xor-autoscaling`).
//! - `autoscaling-min-above-max` (`autoscaling-bounds`).
//! - `inplace-with-replace-strategy` (`inplace-no-replace`).
//! - `platform-block-mismatch` (`platform-type-matches-block`).
//! - `version-skew` (`version-skew`): a release newer than its control plane's in the same tree.

use std::sync::Arc;

use super::kustomize::{kustomize_patch_owners, kustomize_reach};
use super::{Finding, Related};
use crate::db::{dir_of, yaml_facts, SourceFile, Workspace};
use crate::facts::yaml::{api_group_matches, YDoc, YKind, YamlFacts};
use crate::facts::Span;
use crate::model::{CompiledModel, LifecycleManifest};
use crate::syntax::Lang;

pub const ROLLOUT: &str = "lifecycle/rollout-cannot-progress";
pub const REPLICAS_AUTOSCALING: &str = "lifecycle/replicas-with-autoscaling";
pub const AUTOSCALING_BOUNDS: &str = "lifecycle/autoscaling-min-above-max";
pub const INPLACE_REPLACE: &str = "lifecycle/inplace-with-replace-strategy";
pub const PLATFORM_MISMATCH: &str = "lifecycle/platform-block-mismatch";
pub const VERSION_SKEW: &str = "lifecycle/version-skew";

pub static RULE: super::registry::Rule = super::registry::Rule {
    name: "lifecycle",
    doc: "NodePool, HostedCluster and MachineDeployment manifests (overlay patches merged over their base) \
          keep the model's lifecycle invariants. Needs the YAML facts, the kustomize graph (patch owners, \
          reach) and the model's lifecycle section; concerns files with a document of a lifecycle kind.",
    codes: super::registry::Codes::Fixed(&[
        ROLLOUT,
        REPLICAS_AUTOSCALING,
        AUTOSCALING_BOUNDS,
        INPLACE_REPLACE,
        PLATFORM_MISMATCH,
        VERSION_SKEW,
    ]),
    concerns: |file| {
        let kinds: Vec<&str> = file
            .model
            .model
            .lifecycle
            .manifests
            .iter()
            .map(|m| m.kind.as_str())
            .collect();
        super::root_kind_in(file.text, &kinds)
    },
    check: super::registry::Check::Yaml(|cx| check(cx.db, cx.ws, cx.file, cx.facts)),
};

/// A control-plane object (a HostedCluster) and the release it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlPlane {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub version: Option<(u64, u64, u64)>,
    pub image: String,
    pub path: String,
    pub span: Span,
}

/// `quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64` → (4, 17, 3); `None` for digests.
pub fn release_version(image: &str) -> Option<(u64, u64, u64)> {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains('@') {
        return None;
    }
    let tag = last.rsplit_once(':').map(|(_, t)| t).unwrap_or(last);
    let tag = tag.trim_start_matches('v');
    let mut numbers = tag
        .split(|c: char| !c.is_ascii_digit())
        .take(3)
        .map(|p| p.parse::<u64>().ok());
    let major = numbers.next()??;
    let minor = numbers.next()??;
    let patch = numbers.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

fn version_text(v: (u64, u64, u64)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// The manifest entry of the model for a document, if its kind (and group) is checked.
fn manifest_for<'m>(model: &'m CompiledModel, kind: &str, api_version: Option<&str>) -> Option<&'m LifecycleManifest> {
    model
        .model
        .lifecycle
        .manifests
        .iter()
        .find(|m| m.kind == kind && api_group_matches(api_version, &m.api_groups))
}

/// Control-plane objects declared in one file (cheap text check first).
fn extract_control_planes(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Vec<ControlPlane> {
    let model = ws.model(db);
    let kinds: Vec<&str> = model
        .model
        .lifecycle
        .manifests
        .iter()
        .filter_map(|m| m.control_plane_kind.as_deref())
        .collect();
    if !super::root_kind_in(file.text(db), &kinds) {
        return Vec::new();
    }
    let facts = yaml_facts(db, file);
    let mut out = Vec::new();
    for doc in &facts.docs {
        let (Some(id), Some(root)) = (facts.object_id(doc), doc.root) else {
            continue;
        };
        if !kinds.contains(&id.kind.as_str()) {
            continue;
        }
        let Some(manifest) = manifest_for(model, &id.kind, id.api_version.as_deref()) else {
            continue;
        };
        let (Some(name), Some(path)) = (id.name, manifest.release_image.as_deref()) else {
            continue;
        };
        let Some(image_node) = facts.first(root, path) else {
            continue;
        };
        let image = facts.scalar(image_node).unwrap_or("").to_string();
        out.push(ControlPlane {
            kind: id.kind,
            name,
            namespace: id.namespace,
            version: release_version(&image),
            image,
            path: file.path(db).clone(),
            span: facts.node(image_node).span,
        });
    }
    out
}

/// A manifest seen through its layers: the document itself first, then (for a patch) the
/// resource it patches. A value is read from the first layer that has it; a `null` in an
/// earlier layer deletes it.
struct View<'a> {
    layers: Vec<(&'a YamlFacts, u32)>,
}

#[derive(Clone, Copy)]
struct Hit<'a> {
    layer: usize,
    facts: &'a YamlFacts,
    node: u32,
}

impl<'a> Hit<'a> {
    fn scalar(&self) -> Option<&'a str> {
        self.facts.scalar(self.node)
    }
    fn span(&self) -> Span {
        self.facts.anchor_span(self.node)
    }
    fn value_span(&self) -> Span {
        self.facts.node(self.node).span
    }
}

impl<'a> View<'a> {
    fn get(&self, path: &str) -> Option<Hit<'a>> {
        for (layer, &(facts, root)) in self.layers.iter().enumerate() {
            if let Some(&node) = facts.at_path(root, path).first() {
                if facts.node(facts.resolve(node)).kind == YKind::Null {
                    return None;
                }
                return Some(Hit { layer, facts, node });
            }
        }
        None
    }

    /// Keys of the map at `path`, merged over the layers (first layer wins).
    fn keys(&self, path: &str) -> Vec<(String, Hit<'a>)> {
        let mut out: Vec<(String, Option<Hit<'a>>)> = Vec::new();
        for (layer, &(facts, root)) in self.layers.iter().enumerate() {
            let Some(&map) = facts.at_path(root, path).first() else {
                continue;
            };
            for child in facts.children(map) {
                let Some(key) = facts.node(child).key.clone() else {
                    continue;
                };
                if out.iter().any(|(k, _)| k == &key) {
                    continue;
                }
                let deleted = facts.node(facts.resolve(child)).kind == YKind::Null;
                out.push((
                    key,
                    (!deleted).then_some(Hit {
                        layer,
                        facts,
                        node: child,
                    }),
                ));
            }
        }
        out.into_iter().filter_map(|(k, h)| h.map(|h| (k, h))).collect()
    }
}

fn is_zero(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some("0" | "0%"))
}

fn invariant<'m>(model: &'m CompiledModel, id: &str) -> &'m str {
    model
        .model
        .lifecycle
        .invariants
        .iter()
        .find(|i| i.id == id)
        .map(|i| i.text.as_str())
        .unwrap_or("")
}

/// The span to report at: the first involved field the document itself sets.
fn own_span(hits: &[Hit<'_>]) -> Option<Span> {
    hits.iter().find(|h| h.layer == 0).map(|h| h.span())
}

fn join(base: &str, rest: &str) -> String {
    format!("{base}.{rest}")
}

struct Cx<'a> {
    db: &'a dyn salsa::Database,
    ws: Workspace,
    model: &'a CompiledModel,
    path: &'a str,
    kind: &'a str,
    name: String,
    namespace: Option<String>,
    view: View<'a>,
    based_on: Option<String>,
}

impl Cx<'_> {
    fn finding(&self, code: &str, span: Span, invariant_id: &str, args: &[(&str, &str)]) -> Finding {
        let mut all: Vec<(&str, &str)> = vec![
            ("kind", self.kind),
            ("name", &self.name),
            ("invariant", invariant(self.model, invariant_id)),
        ];
        all.extend_from_slice(args);
        let mut message = self.model.message(code, &all);
        if let Some(base) = &self.based_on {
            message.push_str(&format!(" (merged with the patched resource in {base})"));
        }
        Finding::new(code, span, message)
    }
}

fn check_manifest(cx: &Cx<'_>, manifest: &LifecycleManifest) -> Vec<Finding> {
    let mut out = Vec::new();
    let view = &cx.view;
    for base in &manifest.rolling_updates {
        let surge = view.get(&join(base, "maxSurge"));
        let unavailable = view.get(&join(base, "maxUnavailable"));
        if let (Some(s), Some(u)) = (surge, unavailable) {
            if is_zero(s.scalar()) && is_zero(u.scalar()) {
                if let Some(span) = own_span(&[u, s]) {
                    out.push(cx.finding(ROLLOUT, span, "rollout-progress", &[("path", base)]));
                }
            }
        }
    }
    if let (Some(replicas_path), Some(auto_path)) = (&manifest.replicas, &manifest.autoscaling) {
        let replicas = view.get(replicas_path);
        let auto = view.get(auto_path);
        if let (Some(r), Some(a)) = (replicas, auto) {
            if let Some(span) = own_span(&[a, r]) {
                out.push(cx.finding(
                    REPLICAS_AUTOSCALING,
                    span,
                    "replicas-xor-autoscaling",
                    &[("replicas", replicas_path), ("autoscaling", auto_path)],
                ));
            }
        }
        let min = view.get(&join(auto_path, "min"));
        let max = view.get(&join(auto_path, "max"));
        if let (Some(lo), Some(hi)) = (min, max) {
            let parse = |h: Hit<'_>| h.scalar().and_then(|v| v.trim().parse::<i64>().ok());
            if let (Some(a), Some(b)) = (parse(lo), parse(hi)) {
                if a > b {
                    if let Some(span) = own_span(&[lo, hi]) {
                        out.push(cx.finding(
                            AUTOSCALING_BOUNDS,
                            span,
                            "autoscaling-bounds",
                            &[("path", auto_path), ("min", &a.to_string()), ("max", &b.to_string())],
                        ));
                    }
                }
            }
        }
    }
    if let (Some(type_path), Some(in_place)) = (&manifest.upgrade_type, &manifest.in_place_value) {
        if let Some(t) = view.get(type_path).filter(|t| t.scalar() == Some(in_place.as_str())) {
            for field in &manifest.replace_fields {
                if let Some(f) = view.get(field) {
                    if let Some(span) = own_span(&[f, t]) {
                        out.push(cx.finding(
                            INPLACE_REPLACE,
                            span,
                            "inplace-no-replace",
                            &[("field", field), ("upgrade_type", type_path), ("value", in_place)],
                        ));
                    }
                }
            }
        }
    }
    if let (Some(type_path), Some(blocks_in)) = (&manifest.platform_type, &manifest.platform_blocks_in) {
        if let Some(t) = view.get(type_path) {
            let platform = t.scalar().unwrap_or("");
            let expected = manifest.platform_blocks.get(platform);
            for (key, block) in view.keys(blocks_in) {
                if !manifest.platform_blocks.values().any(|b| b == &key) || Some(&key) == expected {
                    continue;
                }
                let Some(span) = own_span(&[block, t]) else { continue };
                let wanted = match expected {
                    Some(b) => format!("`{blocks_in}.{b}`"),
                    None => "no platform block".to_string(),
                };
                let block_path = format!("{blocks_in}.{key}");
                out.push(cx.finding(
                    PLATFORM_MISMATCH,
                    span,
                    "platform-type-matches-block",
                    &[
                        ("type_path", type_path),
                        ("platform", platform),
                        ("block", &block_path),
                        ("expected", &wanted),
                    ],
                ));
            }
        }
    }
    if let (Some(image_path), Some(cp_path), Some(cp_kind)) = (
        &manifest.release_image,
        &manifest.control_plane_name,
        &manifest.control_plane_kind,
    ) {
        let image = view.get(image_path).filter(|h| h.layer == 0);
        let cp_name = view.get(cp_path).and_then(|h| h.scalar());
        if let (Some(image), Some(cp_name)) = (image, cp_name) {
            if let Some(version) = image.scalar().and_then(release_version) {
                if let Some(f) = version_skew(cx, image, version, cp_kind, cp_name, image_path) {
                    out.push(f);
                }
            }
        }
    }
    out
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.split('/').zip(b.split('/')).take_while(|(x, y)| x == y).count()
}

fn version_skew(
    cx: &Cx<'_>,
    image: Hit<'_>,
    version: (u64, u64, u64),
    cp_kind: &str,
    cp_name: &str,
    image_path: &str,
) -> Option<Finding> {
    let all = control_planes(cx.db, cx.ws);
    let here = dir_of(cx.path);
    let candidates: Vec<&ControlPlane> = all
        .iter()
        .filter(|c| c.kind == cp_kind && c.name == cp_name && c.version.is_some())
        .filter(|c| match (&c.namespace, &cx.namespace) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        })
        .collect();
    // The nearest ones in the tree (the same overlay before the shared base).
    let best = candidates.iter().map(|c| common_prefix(dir_of(&c.path), here)).max()?;
    let nearest: Vec<&&ControlPlane> = candidates
        .iter()
        .filter(|c| common_prefix(dir_of(&c.path), here) == best)
        .collect();
    let newest = nearest.iter().filter_map(|c| c.version).max()?;
    if version <= newest {
        return None;
    }
    let cp = nearest.iter().find(|c| c.version == Some(newest))?;
    let mut finding = cx.finding(
        VERSION_SKEW,
        image.value_span(),
        "version-skew",
        &[
            ("path", image_path),
            ("version", &version_text(version)),
            ("control_plane_kind", cp_kind),
            ("control_plane", cp_name),
            ("control_plane_version", &version_text(newest)),
            ("control_plane_path", &cp.path),
        ],
    );
    finding.related.push(Related {
        path: cp.path.clone(),
        span: cp.span,
        message: format!("{cp_kind} `{cp_name}` runs {}", version_text(newest)),
    });
    Some(finding)
}

/// The lifecycle findings of one YAML file.
pub fn check(db: &dyn salsa::Database, ws: Workspace, file: SourceFile, facts: &YamlFacts) -> Vec<Finding> {
    let model = ws.model(db);
    if model.model.lifecycle.manifests.is_empty() {
        return Vec::new();
    }
    let path = file.path(db);
    let mut out = Vec::new();
    for doc in &facts.docs {
        let (Some(root), Some(id)) = (doc.root, facts.object_id(doc)) else {
            continue;
        };
        if !model.model.lifecycle.manifests.iter().any(|m| m.kind == id.kind) {
            continue;
        }
        let name = id.name.clone().unwrap_or_default();
        let mut layers = vec![(facts, root)];
        let mut based_on = None;
        let mut api_version = id.api_version.clone();
        if let Some(base) = patched_base(db, ws, path, doc, facts) {
            let (base_facts, base_root, base_path) = base;
            if api_version.is_none() {
                api_version = base_facts.scalar_at(base_root, "apiVersion").map(str::to_string);
            }
            layers.push((base_facts, base_root));
            based_on = Some(base_path);
        }
        let Some(manifest) = manifest_for(model, &id.kind, api_version.as_deref()) else {
            continue;
        };
        let cx = Cx {
            db,
            ws,
            model,
            path,
            kind: &id.kind,
            name,
            namespace: id.namespace.clone(),
            view: View { layers },
            based_on,
        };
        out.extend(check_manifest(&cx, manifest));
    }
    out
}

/// When `path` is a strategic-merge patch of some kustomization, the resource it patches.
fn patched_base<'db>(
    db: &'db dyn salsa::Database,
    ws: Workspace,
    path: &str,
    doc: &YDoc,
    facts: &YamlFacts,
) -> Option<(&'db YamlFacts, u32, String)> {
    let id = facts.object_id(doc)?;
    let name = id.name.as_deref()?;
    let owners = kustomize_patch_owners(db, ws);
    for &k in owners.get(path)? {
        let reach = kustomize_reach(db, ws, k);
        let Some(object) = reach
            .objects
            .iter()
            .find(|o| o.id.kind == id.kind && o.id.name.as_deref() == Some(name))
        else {
            continue;
        };
        let base = yaml_facts(db, object.file);
        let root = base.docs.get(object.doc as usize)?.root?;
        return Some((base.as_ref(), root, object.file.path(db).clone()));
    }
    None
}

/// The control-plane objects (e.g. HostedClusters) one file declares, for version skew.
#[salsa::tracked(returns(ref))]
pub fn control_planes_in(db: &dyn salsa::Database, ws: Workspace, file: SourceFile) -> Arc<Vec<ControlPlane>> {
    Arc::new(extract_control_planes(db, ws, file))
}

/// Every control-plane object of the workspace.
#[salsa::tracked(returns(ref))]
pub fn control_planes(db: &dyn salsa::Database, ws: Workspace) -> Arc<Vec<ControlPlane>> {
    let mut all = Vec::new();
    for &file in ws.files(db).iter() {
        if file.lang(db) == Lang::Yaml {
            all.extend(control_planes_in(db, ws, file).iter().cloned());
        }
    }
    Arc::new(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            release_version("quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64"),
            Some((4, 17, 3))
        );
        assert_eq!(
            release_version("registry:5000/ocp-release:4.18.0-rc.1-multi"),
            Some((4, 18, 0))
        );
        assert_eq!(release_version("quay.io/x/ocp-release@sha256:abcd"), None);
        assert_eq!(release_version("quay.io/x/ocp-release:latest"), None);
    }

    #[test]
    fn zero() {
        assert!(is_zero(Some("0")));
        assert!(is_zero(Some("0%")));
        assert!(!is_zero(Some("1")));
        assert!(!is_zero(None));
    }
}
