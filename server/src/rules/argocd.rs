//! `kustomize/argocd-path`: ArgoCD `Application` source paths and `ApplicationSet` git
//! directory generator paths (kinds and field paths from `kustomize.argocd` in the model) that
//! point to nothing in the repository, or to a directory with nothing deployable in it (no
//! kustomization, no chart, no manifests). Paths are relative to the workspace root (the
//! repository); ones that leave it are `kustomize/outside-workspace` and never read.

use std::path::Path;

use super::kustomize::{join_relative, probe, OUTSIDE_WORKSPACE};
use super::Finding;
use crate::db::FileIndex;
use crate::facts::yaml::{api_group_matches, YamlFacts};
use crate::model::CompiledModel;

pub const ARGOCD_PATH: &str = "kustomize/argocd-path";

/// Is the directory `rel` deployable: a kustomization or chart file, or a manifest?
fn deployable(index: &FileIndex, root: &Path, model: &CompiledModel, rel: &str) -> bool {
    let argocd = &model.model.kustomize.argocd;
    let in_dir = |name: &str| {
        if rel.is_empty() {
            name.to_string()
        } else {
            format!("{rel}/{name}")
        }
    };
    if argocd
        .deployable_files
        .iter()
        .any(|n| index.paths.contains_key(&in_dir(n)) || matches!(probe(root, &in_dir(n)), Ok(Some(false))))
    {
        return true;
    }
    // A plain directory of manifests (ArgoCD's directory source). The directory is confined by
    // the caller; entries are only listed, never followed or read.
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return false;
    };
    entries.flatten().take(10_000).any(|e| {
        let name = e.file_name().to_string_lossy().to_ascii_lowercase();
        e.file_type().is_ok_and(|t| t.is_file())
            && argocd
                .manifest_extensions
                .iter()
                .any(|ext| name.ends_with(&format!(".{}", ext.trim_start_matches('.'))))
    })
}

fn glob_matches_dir(index: &FileIndex, pattern: &str) -> bool {
    let Ok(glob) = globset::GlobBuilder::new(pattern.trim_matches('/'))
        .literal_separator(true)
        .build()
    else {
        return true;
    };
    let matcher = glob.compile_matcher();
    index.dirs.iter().any(|d| matcher.is_match(d))
}

pub fn check(index: &FileIndex, root: &Path, model: &CompiledModel, facts: &YamlFacts) -> Vec<Finding> {
    let argocd = &model.model.kustomize.argocd;
    let mut out = Vec::new();
    for doc in &facts.docs {
        let (Some(root_node), Some(id)) = (doc.root, facts.object_id(doc)) else {
            continue;
        };
        let Some(fields) = argocd.path_fields.get(&id.kind) else {
            continue;
        };
        if !api_group_matches(id.api_version.as_deref(), &argocd.api_groups) {
            continue;
        }
        for field in fields {
            for node in facts.at_path(root_node, field) {
                let Some(value) = facts.scalar(node) else { continue };
                let value = value.trim();
                // A templated path is resolved per generated application.
                if value.contains("{{") || value.contains("${") {
                    continue;
                }
                let parent = facts.node(node).parent;
                let skipped = parent.is_some_and(|p| {
                    argocd
                        .skip_when_sibling
                        .iter()
                        .any(|s| facts.get(p, s).is_some_and(|v| facts.scalar(v) != Some("false")))
                });
                if skipped {
                    continue;
                }
                let span = facts.node(node).span;
                if value.starts_with('/') {
                    let message = model.message(
                        OUTSIDE_WORKSPACE,
                        &[("field", field), ("value", value), ("why", "is an absolute path")],
                    );
                    out.push(Finding::new(OUTSIDE_WORKSPACE, span, message));
                    continue;
                }
                let Some(rel) = join_relative("", value) else {
                    let message = model.message(
                        OUTSIDE_WORKSPACE,
                        &[
                            ("field", field),
                            ("value", value),
                            ("why", "climbs above the workspace root"),
                        ],
                    );
                    out.push(Finding::new(OUTSIDE_WORKSPACE, span, message));
                    continue;
                };
                let problem = if rel.contains(['*', '?', '[']) {
                    (!glob_matches_dir(index, &rel)).then(|| "matches no directory in the repository".to_string())
                } else {
                    match probe(root, &rel) {
                        Err(why) => {
                            let message =
                                model.message(OUTSIDE_WORKSPACE, &[("field", field), ("value", value), ("why", &why)]);
                            out.push(Finding::new(OUTSIDE_WORKSPACE, span, message));
                            continue;
                        }
                        Ok(None) => Some("points to nothing in the repository".to_string()),
                        Ok(Some(false)) => Some("is a file; ArgoCD deploys a directory".to_string()),
                        Ok(Some(true)) => (!deployable(index, root, model, &rel))
                            .then(|| "is a directory with no kustomization, chart or manifests".to_string()),
                    }
                };
                if let Some(problem) = problem {
                    let message = model.message(
                        ARGOCD_PATH,
                        &[
                            ("kind", &id.kind),
                            ("name", id.name.as_deref().unwrap_or("")),
                            ("field", field),
                            ("value", value),
                            ("problem", &problem),
                        ],
                    );
                    out.push(Finding::new(ARGOCD_PATH, span, message));
                }
            }
        }
    }
    out
}
