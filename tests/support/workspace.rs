//! Small throw-away workspaces for the CLI and protocol tests.

use std::path::{Path, PathBuf};

/// An empty workspace (a `.invariant.yaml` with no extra models) at a canonical path.
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join(".invariant.yaml"), "models: []\n").unwrap();
    (dir, root)
}

/// Writes `content` at `rel` under `root`, creating its directories.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path
}
