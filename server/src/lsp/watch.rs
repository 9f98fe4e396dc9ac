//! The workspace on disk: watched files (sources, configuration, models, the baseline) and
//! workspace folders added or removed; models reload with the last good one kept on error.

use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp_server::ls_types::*;

use super::lifecycle::new_root;
use super::*;
use crate::config::{load_workspace_with, CONFIG_FILE, TEAM_FILE};
use crate::vfs::relative;

impl Backend {
    pub(super) async fn watched_files_changed(&self, params: DidChangeWatchedFilesParams) {
        notification_guard("didChangeWatchedFiles", async {
            // Decide under the lock, read files and models off it, apply under it again.
            enum Work {
                Model(PathBuf),
                Delete(String),
                Read(String, PathBuf),
            }
            let (plan, options) = {
                let state = lock(&self.state);
                let mut plan: Vec<(usize, PathBuf, Work)> = Vec::new();
                for event in &params.changes {
                    let Some(path) = uri_to_path(&event.uri) else { continue };
                    let Some(i) = state.root_index(&path) else { continue };
                    let root = &state.roots[i];
                    let Some(rel) = relative(&root.path, &path) else {
                        continue;
                    };
                    let work = if Self::is_model_file(root, &rel) {
                        Work::Model(root.path.clone())
                    } else if root.docs.contains_key(&rel) || crate::syntax::Lang::from_path(&rel).is_none() {
                        continue; // open (the editor's text wins), or not a source (`*.json`)
                    } else if event.typ == FileChangeType::DELETED {
                        Work::Delete(rel)
                    } else {
                        Work::Read(rel, path)
                    };
                    plan.push((i, root.path.clone(), work));
                }
                (plan, state.options.clone())
            };
            let mut touched = Vec::new();
            for (i, root_path, work) in plan {
                enum Done {
                    Model(crate::config::Loaded),
                    Delete(String),
                    Read(String, std::io::Result<crate::vfs::SourceText>),
                }
                let done = match work {
                    Work::Model(root) => Done::Model(load_workspace_with(
                        &root,
                        &[],
                        &options.models,
                        &crate::config::ConfigChoice::Workspace,
                    )),
                    Work::Delete(rel) => Done::Delete(rel),
                    Work::Read(rel, path) => Done::Read(rel, crate::vfs::read_confined(&root_path, &path)),
                };
                let mut state = lock(&self.state);
                if state.roots.get(i).is_none_or(|r| r.path != root_path) {
                    continue;
                }
                match done {
                    Done::Model(loaded) => Self::reload_model(&mut state, i, loaded),
                    Done::Delete(rel) => state.roots[i].host.remove(&rel),
                    Done::Read(rel, read) => {
                        let root = &mut state.roots[i];
                        if root.docs.contains_key(&rel) {
                            continue;
                        }
                        match read {
                            Ok(text) => {
                                root.host.set_text(&rel, text);
                                root.host.sync_file_set();
                            }
                            // Not readable (gone, a FIFO, outside the root): not checked.
                            Err(_) => root.host.remove(&rel),
                        }
                    }
                }
                if !touched.contains(&i) {
                    touched.push(i);
                }
            }
            for i in touched {
                self.refresh(i).await;
            }
            self.pull_refresh().await;
        })
        .await
    }

    pub(super) async fn folders_changed(&self, params: DidChangeWorkspaceFoldersParams) {
        notification_guard("didChangeWorkspaceFolders", async {
            let options = lock(&self.state).options.clone();
            let fresh: Vec<Root> = params
                .event
                .added
                .iter()
                .filter_map(|f| uri_to_path(&f.uri))
                .map(|p| Root {
                    indexing: true,
                    ..new_root(p, &options)
                })
                .collect();
            let removed_paths: Vec<PathBuf> = params
                .event
                .removed
                .iter()
                .filter_map(|f| uri_to_path(&f.uri))
                .collect();
            let (added, cleared, rehomed): (Vec<usize>, Vec<Uri>, Vec<usize>) = {
                let mut state = lock(&self.state);
                let mut cleared = Vec::new();
                let mut left_open: Vec<(PathBuf, OpenDoc)> = Vec::new();
                for path in &removed_paths {
                    let (gone, kept): (Vec<Root>, Vec<Root>) = std::mem::take(&mut state.roots)
                        .into_iter()
                        .partition(|r| &r.path == path);
                    state.roots = kept;
                    for root in gone {
                        cleared.extend(root.docs.values().map(|d| d.uri.clone()));
                        cleared.extend(root.model_problem_uris.iter().cloned());
                        left_open.extend(root.docs.into_iter().map(|(rel, d)| (root.path.join(rel), d)));
                        // Every file of the folder that was told findings (push), open or not.
                        cleared.extend(
                            state
                                .memory
                                .published
                                .keys()
                                .filter(|u| uri_to_path(u).is_some_and(|p| p.starts_with(&root.path)))
                                .cloned(),
                        );
                    }
                }
                cleared.sort_by(|a, b| a.as_str().cmp(b.as_str()));
                cleared.dedup();
                for uri in &cleared {
                    state.published.remove(uri);
                    state.memory.forget(uri);
                }
                // A document still open stays with the editor: kept aside until a folder holds it.
                for (path, doc) in left_open {
                    state.detached.insert(path, doc);
                }
                // A remaining folder that holds one of them (an enclosing folder) takes it now.
                let mut rehomed = Vec::new();
                for i in 0..state.roots.len() {
                    let before = state.roots[i].docs.len();
                    state.adopt_detached(i);
                    if state.roots[i].docs.len() != before {
                        rehomed.push(i);
                    }
                }
                (fresh.into_iter().map(|r| state.add_root(r)).collect(), cleared, rehomed)
            };
            // A removed folder's files (open or not) and model files keep no diagnostics.
            for uri in cleared {
                self.client.publish_diagnostics(uri, Vec::new(), None).await;
            }
            for i in rehomed {
                self.refresh(i).await;
            }
            for i in added {
                self.index(i).await;
            }
            self.pull_refresh().await;
        })
        .await
    }

    /// Applies re-read configuration and models (read off the lock by `load_workspace`); on
    /// error the last good model stays in force.
    pub(super) fn reload_model(state: &mut State, root_index: usize, loaded: crate::config::Loaded) {
        let options = state.options.clone();
        let Some(root) = state.roots.get_mut(root_index) else {
            return;
        };
        if loaded.errors.is_empty() {
            let mut config = (*loaded.config).clone();
            config.severity.extend(options.severity.clone());
            root.host.set_model(loaded.model, Arc::new(config));
        }
        root.host.set_model_errors(loaded.errors);
    }

    /// Files whose change reloads the configuration: `.invariant.yaml`, the team file, the
    /// model files they name, and the baseline (its findings are shown as hints).
    pub(super) fn is_model_file(root: &Root, rel: &str) -> bool {
        let config = root.host.config();
        rel == CONFIG_FILE
            || rel == TEAM_FILE
            || config.models.iter().any(|m| m == rel)
            || config.baseline.as_deref() == Some(rel)
    }
}
