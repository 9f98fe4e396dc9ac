//! Document synchronisation: `didOpen`, `didChange` (incremental, in arrival order, stale
//! versions dropped), `didSave` and `didClose` (the file on disk is the truth again).

use tower_lsp_server::ls_types::*;

use super::document::Change;
use super::lifecycle::new_root;
use super::*;
use crate::vfs::relative;

impl Backend {
    pub(super) async fn open_document(&self, params: DidOpenTextDocumentParams) {
        notification_guard("didOpen", async {
            let item = params.text_document;
            let Some(path) = uri_to_path(&item.uri) else { return };
            // A file outside every workspace folder gets its own root (found like `check` does),
            // loaded off the lock.
            let (known, options) = {
                let state = lock(&self.state);
                (state.root_index(&path).is_some(), state.options.clone())
            };
            let fresh = (!known).then(|| new_root(crate::vfs::find_root(&path), &options));
            // Parsed off the lock: the open document holds its tree, so its first keystroke
            // reparses incrementally and its facts are reused per declaration (issue 29.2).
            let source = crate::vfs::from_editor(item.text.clone());
            let tree = path
                .to_str()
                .and_then(crate::syntax::Lang::from_path)
                .filter(|_| source.1.is_none())
                .and_then(|lang| crate::syntax::parse(lang, &source.0, None).tree);
            let root_index = {
                let mut state = lock(&self.state);
                let i = match (state.root_index(&path), fresh) {
                    (Some(i), _) => i,
                    (None, Some(root)) => state.add_root(root),
                    (None, None) => return,
                };
                // A reopened document starts a new version history: an older published version
                // must not block its diagnostics.
                state.published.remove(&item.uri);
                state.detached.remove(&path);
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                if root.host.set_text(&rel, source).is_none() {
                    return; // not a language we check
                }
                if let Some(tree) = tree {
                    root.host.hold_tree(&rel, tree);
                }
                root.host.sync_file_set();
                root.docs.insert(
                    rel,
                    OpenDoc {
                        uri: item.uri.clone(),
                        doc: Document::new(item.version, &item.text),
                    },
                );
                i
            };
            self.refresh(root_index).await;
        })
        .await
    }

    pub(super) async fn change_document(&self, params: DidChangeTextDocumentParams) {
        notification_guard("didChange", async {
            let Some(path) = uri_to_path(&params.text_document.uri) else {
                return;
            };
            let version = params.text_document.version;
            // Everything up to `refresh` happens synchronously on the first poll, under the lock.
            let root_index = {
                let mut state = lock(&self.state);
                let encoding = state.encoding;
                if let Some(open) = state.detached.get_mut(&path) {
                    // Its folder was removed: the text is kept current for when a folder
                    // holding it is added again; nothing is analysed meanwhile.
                    if version > open.doc.version {
                        let changes: Vec<Change> = params
                            .content_changes
                            .iter()
                            .map(|change| Change {
                                range: change
                                    .range
                                    .map(|r| ((r.start.line, r.start.character), (r.end.line, r.end.character))),
                                text: change.text.clone(),
                            })
                            .collect();
                        open.doc.apply_all(&changes, None, encoding);
                        open.doc.version = version;
                    }
                    return;
                }
                let Some(i) = state.root_index(&path) else { return };
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                let Some(open) = root.docs.get_mut(&rel) else {
                    tracing::warn!(path = %rel, "change for a document that is not open; ignored");
                    return;
                };
                if version <= open.doc.version {
                    tracing::warn!(path = %rel, version, stored = open.doc.version, "stale change dropped");
                    return;
                }
                let tree = root.host.tree_for_edit(&rel);
                let changes: Vec<Change> = params
                    .content_changes
                    .iter()
                    .map(|change| Change {
                        range: change
                            .range
                            .map(|r| ((r.start.line, r.start.character), (r.end.line, r.end.character))),
                        text: change.text.clone(),
                    })
                    .collect();
                let tree = open.doc.apply_all(&changes, tree, encoding);
                open.doc.version = version;
                // Editor text meets the same limits as text from disk (size, binary).
                let (text, note) = crate::vfs::from_editor(open.doc.text());
                let tree = if note.is_some() { None } else { tree };
                root.host.set_edited_text(&rel, (text, note), tree);
                if state.support.update_on == diagnostics::UpdateOn::Save {
                    state.memory.dirty.insert(params.text_document.uri.clone());
                    return; // findings update on save
                }
                state.edits += 1;
                i
            };
            self.refresh_after_edit(root_index).await;
        })
        .await
    }

    pub(super) async fn save_document(&self, params: DidSaveTextDocumentParams) {
        notification_guard("didSave", self.saved(params.text_document.uri)).await
    }

    pub(super) async fn close_document(&self, params: DidCloseTextDocumentParams) {
        notification_guard("didClose", async {
            let Some(path) = uri_to_path(&params.text_document.uri) else {
                return;
            };
            let (root_index, root_path, rel) = {
                let mut state = lock(&self.state);
                if state.detached.remove(&path).is_some() {
                    return; // its folder was removed: nothing analysed, nothing published
                }
                let Some(i) = state.root_index(&path) else { return };
                let root = &mut state.roots[i];
                let Some(rel) = relative(&root.path, &path) else { return };
                root.docs.remove(&rel);
                root.host.release_tree(&rel);
                let root_path = root.path.clone();
                state.published.remove(&params.text_document.uri);
                state.memory.forget(&params.text_document.uri);
                (i, root_path, rel)
            };
            // The file on disk is the truth again for a closed document; read off the lock.
            let read = crate::vfs::read_confined(&root_path, &path);
            {
                let mut state = lock(&self.state);
                if let Some(root) = state.roots.get_mut(root_index).filter(|r| r.path == root_path) {
                    if !root.docs.contains_key(&rel) {
                        match read {
                            Ok(text) => {
                                root.host.set_text(&rel, text);
                                root.host.sync_file_set();
                            }
                            Err(_) => root.host.remove(&rel),
                        }
                    }
                }
            }
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
            self.refresh(root_index).await;
        })
        .await
    }
}
