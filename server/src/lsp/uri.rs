//! Document and folder URIs → the paths the server keys roots and documents by.

use std::path::PathBuf;

use tower_lsp_server::ls_types::Uri;

/// The path of a document or folder URI as the server keys it: `..` resolved lexically, then
/// symlinks resolved (the longest existing prefix), so a workspace opened through a symlinked
/// path (`~/src -> /data/src`) and its documents meet on the same canonical root. Only `stat`
/// and `readlink` calls: nothing is opened.
pub(super) fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let lexical = uri_to_lexical_path(uri)?;
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Some(out);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return Some(lexical),
        }
    }
}

fn uri_to_lexical_path(uri: &Uri) -> Option<PathBuf> {
    let path = uri.to_file_path()?.into_owned();
    // `..` is resolved here, so `file:///root/../elsewhere` never counts as inside `/root`.
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}
