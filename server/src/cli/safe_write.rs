//! Writing a file the command line produces (`--output FORMAT=FILE`, `--write-baseline FILE`,
//! `--fix`) without following a symbolic link the tree ships: a link at the file's name, or at
//! any directory on its way that lies inside the workspace (or the current directory), is
//! refused with the path; a link outside them (the user's own filesystem) is followed. The bytes
//! go to a temporary file in the same directory, renamed over the name: a link swapped in after
//! the check is replaced, never written through, and a reader never sees half a file.

use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Where a report or baseline goes: an absolute path, checked.
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    /// A link or special file outside the workspace that the user named (`/dev/stdout`): written
    /// in place, as before, since nothing in the tree put it there.
    pub in_place: bool,
}

/// `path` (relative to `cwd`, or absolute) made absolute without following links, after
/// checking every component inside one of the `boundaries`' trees (the workspace root, the
/// current directory): none may be a symbolic link, and the last one, when it exists, must be a
/// regular file.
pub fn checked_target(cwd: &Path, path: &Path, boundaries: &[&Path]) -> Result<Target, String> {
    let shown = path.display();
    let mut at = if path.is_absolute() {
        PathBuf::from("/")
    } else {
        cwd.to_path_buf()
    };
    let components: Vec<Component> = path.components().collect();
    let mut in_place = false;
    for (i, component) in components.iter().enumerate() {
        match component {
            Component::RootDir | Component::Prefix(_) | Component::CurDir => continue,
            Component::ParentDir => {
                at.pop();
                continue;
            }
            Component::Normal(name) => at.push(name),
        }
        let last = i + 1 == components.len();
        let inside = boundaries.iter().any(|b| at.starts_with(b) && at != *b);
        let Ok(meta) = std::fs::symlink_metadata(&at) else {
            continue;
        };
        if !inside {
            in_place = last && (meta.file_type().is_symlink() || !meta.is_file());
        } else if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&at)
                .map(|t| t.display().to_string())
                .unwrap_or_default();
            return Err(format!(
                "{shown}: {} is a symbolic link (to {target}); refusing to write through it",
                at.display()
            ));
        } else if last && !meta.is_file() {
            return Err(format!("{shown}: not a regular file; refusing to write it"));
        }
    }
    Ok(Target { path: at, in_place })
}

/// Writes `bytes` at a checked [`Target`].
pub fn write_target(target: &Target, bytes: &[u8]) -> Result<(), String> {
    if target.in_place {
        return std::fs::write(&target.path, bytes).map_err(|e| format!("{}: {e}", target.path.display()));
    }
    write_replacing(&target.path, bytes)
}

/// Writes `bytes` at `path` (already checked by [`checked_target`]) through a temporary file in
/// the same directory and a rename. An existing file keeps its permissions; a new one gets
/// 0666 less the umask, as `File::create` would.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let existing = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(format!(
                "{}: is a symbolic link; refusing to write through it",
                path.display()
            ))
        }
        Ok(meta) => Some(meta.permissions()),
        Err(_) => None,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".invariant-write-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(
            existing
                .clone()
                .unwrap_or_else(|| std::fs::Permissions::from_mode(0o666)),
        );
    }
    let mut file = builder.tempfile_in(dir).map_err(|e| err(&e))?;
    if let Some(permissions) = existing {
        // Exactly the old mode (the creation mode above went through the umask).
        file.as_file().set_permissions(permissions).map_err(|e| err(&e))?;
    }
    file.write_all(bytes).map_err(|e| err(&e))?;
    file.as_file().sync_all().map_err(|e| err(&e))?;
    file.persist(path).map_err(|e| err(&e.error))?;
    Ok(())
}

/// What `--fix` did with one file.
#[derive(Debug, PartialEq, Eq)]
pub enum FixWrite {
    Written,
    /// The file no longer holds the text the fix was computed from (saved meanwhile): left as is.
    ChangedMeanwhile,
}

/// Writes `after` at `rel` under `root` only if the file still holds `before` (the text the fix
/// was computed from); never through a link (see [`checked_target`]).
pub fn write_fix(root: &Path, rel: &str, before: &str, after: &str) -> Result<FixWrite, String> {
    let target = checked_target(root, Path::new(rel), &[root])?.path;
    injected_edit(&target);
    let now = std::fs::read(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    if now != before.as_bytes() {
        return Ok(FixWrite::ChangedMeanwhile);
    }
    write_replacing(&target, after.as_bytes())?;
    Ok(FixWrite::Written)
}

/// Test hook (`fault-injection` builds only): with `INVARIANT_FAULT=fix-race:<text>`, a line is
/// appended to a file whose path contains `<text>` between `--fix` reading it and writing it,
/// as an editor saving meanwhile would.
#[cfg(feature = "fault-injection")]
pub fn injected_edit(path: &Path) {
    let Ok(spec) = std::env::var("INVARIANT_FAULT") else {
        return;
    };
    let Some(text) = spec.strip_prefix("fix-race:") else {
        return;
    };
    if !text.is_empty() && path.to_string_lossy().contains(text) {
        if let Ok(mut f) = std::fs::OpenOptions::new().append(true).open(path) {
            let _ = f.write_all(b"# saved meanwhile\n");
        }
    }
}

#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn injected_edit(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_inside_the_boundary_are_refused_outside_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.join("real")).unwrap();
        std::os::unix::fs::symlink(outside.path(), root.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("x"), root.join("dangling")).unwrap();
        let ok = checked_target(&root, Path::new("real/../real/r.json"), &[&root]).unwrap();
        assert_eq!(ok.path, root.join("real/r.json"));
        assert!(!ok.in_place);
        for bad in ["linked/r.json", "dangling", "real"] {
            assert!(checked_target(&root, Path::new(bad), &[&root]).is_err(), "{bad}");
        }
        // A path the user names outside the tree: followed (written in place when special).
        let stdout = checked_target(&root, Path::new("/dev/null"), &[&root]).unwrap();
        assert!(stdout.in_place);
        write_target(&ok, b"one\n").unwrap();
        write_target(&ok, b"two\n").unwrap();
        assert_eq!(std::fs::read_to_string(root.join("real/r.json")).unwrap(), "two\n");
        // No temporary file left next to it.
        assert_eq!(std::fs::read_dir(root.join("real")).unwrap().count(), 1);
    }
}
