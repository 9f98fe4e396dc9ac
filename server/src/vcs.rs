//! Git plumbing for `check --new-from-rev` and `impact --since`: find the repository, resolve a
//! revision, and export a revision's tree into a private directory from git objects alone (the
//! work tree and the index are never touched). Runs the `git` executable; every failure is a
//! message for the user. Also the remote URLs that name the repository (for ArgoCD sources).

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// git in `repo`, run so that nothing the repository configures executes (README, "Security
/// model"): the user's own configuration and the `git` on PATH are trusted, the repository's
/// `.git/config` (and what it includes) and its committed `.gitattributes` are not. Command-line
/// configuration wins over every file (includes too), so: no fsmonitor hook, no hooks at all.
/// The commands run here read objects, refs and the index; the one that reads work-tree files
/// (`changed_files`) also neutralises every filter driver and passes `--no-ext-diff
/// --no-textconv`, and trees are exported from raw blobs (`cat-file`), never through
/// checkout's filters. Output goes to pipes, and `--no-pager` with `GIT_PAGER=cat` besides.
fn git(repo: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager")
        .args(["-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null"])
        .arg("-C")
        .arg(repo);
    // No pager, no prompts, no user configuration that changes the output format.
    cmd.env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<String, String> {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{what}: cannot run git: {e}"))?;
    let pid = child.id();
    crate::interrupt::register_child(pid);
    let out = child.wait_with_output();
    crate::interrupt::child_done(pid);
    let out = out.map_err(|e| format!("{what}: cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Configuration that empties every filter driver the repository's configuration defines
/// (`filter.<name>.clean`, `.smudge`, `.process`; `required` off), as `GIT_CONFIG_COUNT`
/// variables: a committed `.gitattributes` can then select no command to run on a work-tree
/// file. Passed through the environment (not `-c`) so that no driver name needs quoting.
fn without_filters(repo: &Path, cmd: &mut Command) -> Result<(), String> {
    let mut list = git(repo);
    list.args(["config", "-z", "--get-regexp", r"^filter\."]);
    // Exit 1 is "no such key": no filters.
    let listed = run(list, "reading the filter drivers").unwrap_or_default();
    let mut names: Vec<&str> = listed
        .split('\0')
        .filter_map(|entry| entry.split('\n').next())
        .filter_map(|key| key.strip_prefix("filter."))
        .filter_map(|rest| rest.rsplit_once('.').map(|(name, _)| name))
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut count = std::env::var("GIT_CONFIG_COUNT")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    for name in names {
        for (key, value) in [("clean", ""), ("smudge", ""), ("process", ""), ("required", "false")] {
            cmd.env(format!("GIT_CONFIG_KEY_{count}"), format!("filter.{name}.{key}"))
                .env(format!("GIT_CONFIG_VALUE_{count}"), value);
            count += 1;
        }
    }
    cmd.env("GIT_CONFIG_COUNT", count.to_string());
    Ok(())
}

/// The top directory of the git work tree that contains `path` (a file or a directory).
pub fn toplevel(path: &Path) -> Result<PathBuf, String> {
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    };
    let mut cmd = git(dir);
    cmd.args(["rev-parse", "--show-toplevel"]);
    let top = run(cmd, &format!("{}: not in a git repository", path.display()))?;
    let top = PathBuf::from(top);
    Ok(top.canonicalize().unwrap_or(top))
}

/// The full commit id `rev` names in `repo` (a branch, tag, `HEAD~2`, an abbreviated id).
pub fn resolve_rev(repo: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    let mut cmd = git(repo);
    cmd.args(["rev-parse", "--verify", "--quiet", "--end-of-options"])
        .arg(format!("{rev}^{{commit}}"));
    run(cmd, &format!("`{rev}` names no commit")).and_then(|id| {
        if id.is_empty() {
            Err(format!("`{rev}` names no commit"))
        } else {
            Ok(id)
        }
    })
}

/// The merge base of `HEAD` with the default branch (`origin/HEAD`, else `origin/main`,
/// `origin/master`, `main`, `master`): what a pull request is compared with.
pub fn default_merge_base(repo: &Path) -> Result<String, String> {
    let mut candidates = Vec::new();
    let mut cmd = git(repo);
    cmd.args(["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]);
    if let Ok(r) = run(cmd, "origin/HEAD") {
        candidates.push(r);
    }
    candidates.extend(["origin/main", "origin/master", "main", "master"].map(String::from));
    for candidate in candidates {
        if resolve_rev(repo, &candidate).is_err() {
            continue;
        }
        let mut cmd = git(repo);
        cmd.args(["merge-base", "HEAD", &candidate]);
        if let Ok(base) = run(cmd, "merge-base") {
            if !base.is_empty() {
                return Ok(base);
            }
        }
    }
    Err(format!(
        "{}: no default branch to compare with (tried origin/HEAD, origin/main, origin/master, main, master); name a revision",
        repo.display()
    ))
}

/// Writes the tree of `rev` into `dest` (an existing, empty, private directory) from git
/// objects: neither the work tree nor the repository's index is read or written.
pub fn export_tree(repo: &Path, rev: &str, dest: &Path) -> Result<(), String> {
    export_tree_skipping(repo, rev, dest, &[])
}

/// One entry of `git ls-tree -r`.
struct TreeEntry {
    mode: String,
    oid: String,
    path: String,
}

/// A tree path that stays below the directory it is written into: no empty, `.`, `..` or
/// `.git` component, no leading `/`, no backslash (git's own checks, repeated here because the
/// objects come from the repository).
fn safe_tree_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != ".." && !part.eq_ignore_ascii_case(".git"))
}

/// [`export_tree`] without the files under directories named in `skip` (at any depth, e.g.
/// `vendor`): what `check` would not read anyway need not be written.
///
/// Blobs are read raw with `git cat-file --batch` (no smudge, process or eol filter a
/// `.gitattributes` could select) and written here: `dest` is made owner-only and is removed if
/// a signal ends the process, and the git child is killed then ([`crate::interrupt`]). Every
/// regular file is created new (never through an existing entry) before any symbolic link, and
/// a link is created only where its directory's real path is inside `dest`.
pub fn export_tree_skipping(repo: &Path, rev: &str, dest: &Path, skip: &[&str]) -> Result<(), String> {
    let commit = resolve_rev(repo, rev)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("{}: {e}", dest.display()))?;
    }
    crate::interrupt::register_dir(dest);
    let mut list = git(repo);
    list.args(["ls-tree", "-r", "-z", "--full-tree", &commit]);
    let listed = run(list, &format!("listing the tree of {rev}"))?;
    let mut entries = Vec::new();
    for line in listed.split('\0').filter(|l| !l.is_empty()) {
        let Some((meta, path)) = line.split_once('\t') else {
            return Err(format!("listing the tree of {rev}: unexpected line {line:?}"));
        };
        let mut meta = meta.split(' ');
        let (Some(mode), Some(kind), Some(oid)) = (meta.next(), meta.next(), meta.next()) else {
            return Err(format!("listing the tree of {rev}: unexpected line {line:?}"));
        };
        if !safe_tree_path(path) {
            return Err(format!("the tree of {rev} has an unsafe path {path:?}"));
        }
        if path.split('/').any(|part| skip.contains(&part)) {
            continue;
        }
        match kind {
            "blob" => entries.push(TreeEntry {
                mode: mode.to_string(),
                oid: oid.to_string(),
                path: path.to_string(),
            }),
            // A submodule: an empty directory, as a checkout without it leaves.
            _ => std::fs::create_dir_all(dest.join(path)).map_err(|e| format!("exporting {rev}: {path}: {e}"))?,
        }
    }
    let canonical_dest = dest.canonicalize().map_err(|e| format!("{}: {e}", dest.display()))?;
    let mut links = Vec::new();
    read_blobs(repo, rev, &entries, |entry, size, content| {
        if entry.mode == "120000" {
            let mut target = Vec::with_capacity(size as usize);
            content.take(size).read_to_end(&mut target)?;
            links.push((entry.path.clone(), target));
            return Ok(());
        }
        let _writing = crate::interrupt::writing().ok_or_else(|| std::io::Error::other("interrupted"))?;
        let path = dest.join(&entry.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path)?;
        std::io::copy(&mut content.take(size), &mut file)?;
        Ok(())
    })?;
    for (path, target) in links {
        let _writing = crate::interrupt::writing().ok_or_else(|| format!("exporting {rev}: interrupted"))?;
        let at = dest.join(&path);
        let parent = at.parent().unwrap_or(dest);
        std::fs::create_dir_all(parent).map_err(|e| format!("exporting {rev}: {path}: {e}"))?;
        let inside = parent
            .canonicalize()
            .is_ok_and(|real| real.starts_with(&canonical_dest));
        if !inside {
            return Err(format!(
                "the tree of {rev} has a path through a symbolic link: {path:?}"
            ));
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            std::os::unix::fs::symlink(std::ffi::OsStr::from_bytes(&target), &at)
                .map_err(|e| format!("exporting {rev}: {path}: {e}"))?;
        }
    }
    Ok(())
}

/// Streams the raw content of `entries`' blobs (`git cat-file --batch`) to `write`, in order:
/// the entry, the blob's size and a reader positioned at its content.
fn read_blobs(
    repo: &Path,
    rev: &str,
    entries: &[TreeEntry],
    mut write: impl FnMut(&TreeEntry, u64, &mut dyn BufRead) -> std::io::Result<()>,
) -> Result<(), String> {
    let mut cat = git(repo);
    cat.args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cat
        .spawn()
        .map_err(|e| format!("exporting {rev}: cannot run git: {e}"))?;
    let pid = child.id();
    crate::interrupt::register_child(pid);
    let result = (|| {
        let mut stdin = child.stdin.take().ok_or("exporting: no stdin")?;
        let feed: String = entries.iter().map(|e| format!("{}\n", e.oid)).collect();
        // Written from another thread: git fills its stdout pipe before reading all of stdin.
        let writer = std::thread::spawn(move || stdin.write_all(feed.as_bytes()));
        let stdout = child.stdout.take().ok_or("exporting: no stdout")?;
        let mut reader = std::io::BufReader::with_capacity(1 << 16, stdout);
        let mut header = String::new();
        for entry in entries {
            header.clear();
            reader
                .read_line(&mut header)
                .map_err(|e| format!("exporting {rev}: {e}"))?;
            // `<oid> blob <size>`, or `<oid> missing`.
            let mut parts = header.split_whitespace();
            let size = match (parts.next(), parts.next(), parts.next()) {
                (Some(_), Some("blob"), Some(size)) => size.parse::<u64>().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("exporting {rev}: {}: cannot read blob {}", entry.path, entry.oid))?;
            write(entry, size, &mut reader).map_err(|e| format!("exporting {rev}: {}: {e}", entry.path))?;
            let mut newline = [0u8; 1];
            reader
                .read_exact(&mut newline)
                .map_err(|e| format!("exporting {rev}: {e}"))?;
        }
        writer
            .join()
            .map_err(|_| format!("exporting {rev}: writer failed"))?
            .map_err(|e| format!("exporting {rev}: {e}"))?;
        Ok::<(), String>(())
    })();
    if result.is_err() {
        let _ = child.kill();
    }
    let status = child.wait_with_output();
    crate::interrupt::child_done(pid);
    result?;
    let out = status.map_err(|e| format!("exporting {rev}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "exporting {rev}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// The fetch URLs of the repository's remotes (for links in reports); empty when none.
pub fn remote_urls(repo: &Path) -> Vec<String> {
    let mut cmd = git(repo);
    cmd.args(["remote", "-v"]);
    let Ok(out) = run(cmd, "remote") else {
        return Vec::new();
    };
    let mut urls: Vec<String> = out
        .lines()
        .filter(|l| l.ends_with("(fetch)"))
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect();
    urls.dedup();
    urls
}

/// Paths (relative to the top level) that differ between `rev` and the work tree, including
/// untracked files that are not ignored.
pub fn changed_files(repo: &Path, rev: &str) -> Result<Vec<String>, String> {
    let commit = resolve_rev(repo, rev)?;
    let mut diff = git(repo);
    // Comparing with the work tree reads its files: no filter driver, no textconv, no
    // external diff may run on them.
    without_filters(repo, &mut diff)?;
    diff.args([
        "diff",
        "--no-ext-diff",
        "--no-textconv",
        "--name-only",
        "--no-renames",
        "-z",
        &commit,
        "--",
    ]);
    let mut files: Vec<String> = run(diff, "git diff")?
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    let mut untracked = git(repo);
    untracked.args(["ls-files", "--others", "--exclude-standard", "-z"]);
    files.extend(
        run(untracked, "git ls-files")?
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(String::from),
    );
    files.sort();
    files.dedup();
    Ok(files)
}

/// A repository URL in one comparable form: host and path, lower case, without scheme, user,
/// port-less `git@host:` syntax, `.git` suffix or trailing slash. `https://github.com/a/b.git`,
/// `git@github.com:a/b` and `ssh://git@github.com/a/b` all give `github.com/a/b`.
pub fn normalize_repo_url(url: &str) -> String {
    let mut s = url.trim();
    if let Some((_, rest)) = s.split_once("://") {
        s = rest;
    } else if let Some((user_host, path)) = s.split_once(':') {
        // scp-like `git@host:path`
        if !user_host.contains('/') {
            let host = user_host.rsplit('@').next().unwrap_or(user_host);
            return normalize_tail(&format!("{host}/{path}"));
        }
    }
    let s = match s.split_once('/') {
        Some((authority, path)) => {
            let host = authority.rsplit('@').next().unwrap_or(authority);
            let host = host.split(':').next().unwrap_or(host);
            format!("{host}/{path}")
        }
        None => s.rsplit('@').next().unwrap_or(s).to_string(),
    };
    normalize_tail(&s)
}

fn normalize_tail(s: &str) -> String {
    let s = s.trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    s.trim_end_matches('/').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(dir: &Path, args: &[&str]) {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(ok.status.success(), "{args:?}: {}", String::from_utf8_lossy(&ok.stderr));
    }

    #[test]
    fn exports_a_revision_without_touching_the_work_tree() {
        let repo = tempfile::tempdir().unwrap();
        let root = repo.path();
        sh(root, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/f.go"), "package b\n").unwrap();
        sh(root, &["add", "."]);
        sh(root, &["commit", "-q", "-m", "one"]);
        let first = resolve_rev(root, "HEAD").unwrap();
        std::fs::write(root.join("a/b/f.go"), "package b // two\n").unwrap();
        std::fs::write(root.join("new.go"), "package x\n").unwrap();
        sh(root, &["add", "a"]);
        sh(root, &["commit", "-q", "-m", "two"]);
        std::fs::write(root.join("a/b/f.go"), "package b // dirty\n").unwrap();
        let status_before = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["status", "--porcelain"])
            .output()
            .unwrap()
            .stdout;

        assert_eq!(toplevel(&root.join("a/b/f.go")).unwrap(), root.canonicalize().unwrap());
        assert_eq!(resolve_rev(root, "HEAD~1").unwrap(), first);
        assert!(resolve_rev(root, "no-such-branch").is_err());
        assert!(resolve_rev(root, "--output=x").is_err());
        let dest = tempfile::tempdir().unwrap();
        export_tree(root, "HEAD~1", dest.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dest.path().join("a/b/f.go")).unwrap(),
            "package b\n"
        );
        assert!(!dest.path().join("new.go").exists());
        let partial = tempfile::tempdir().unwrap();
        export_tree_skipping(root, "HEAD~1", partial.path(), &["b"]).unwrap();
        assert!(!partial.path().join("a/b/f.go").exists());
        // The work tree and the index are as they were.
        assert_eq!(
            std::fs::read_to_string(root.join("a/b/f.go")).unwrap(),
            "package b // dirty\n"
        );
        let status_after = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["status", "--porcelain"])
            .output()
            .unwrap()
            .stdout;
        assert_eq!(status_before, status_after);
        assert_eq!(
            changed_files(root, "HEAD~1").unwrap(),
            vec!["a/b/f.go".to_string(), "new.go".to_string()]
        );
        assert!(remote_urls(root).is_empty());
        sh(root, &["remote", "add", "origin", "https://example.com/r.git"]);
        assert_eq!(remote_urls(root), vec!["https://example.com/r.git".to_string()]);
        // No origin/main, but a local main: the merge base of HEAD with it is HEAD.
        assert_eq!(default_merge_base(root).unwrap(), resolve_rev(root, "HEAD").unwrap());
    }

    #[test]
    fn tree_paths_that_would_leave_the_export_are_refused() {
        for ok in ["a.go", "a/b/c.yaml", ".gitattributes", "a/.github/x"] {
            assert!(safe_tree_path(ok), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "../x",
            "a/../../x",
            "./a",
            ".git/config",
            "a/.GIT/hooks/x",
            "a\\b",
        ] {
            assert!(!safe_tree_path(bad), "{bad}");
        }
    }

    #[test]
    fn url_forms_agree() {
        for url in [
            "https://github.com/Org/Repo.git",
            "https://github.com/org/repo",
            "https://user@github.com/org/repo/",
            "git@github.com:org/repo.git",
            "ssh://git@github.com/org/repo",
            "git://github.com/org/repo.git",
            "ssh://git@github.com:22/org/repo.git",
        ] {
            assert_eq!(super::normalize_repo_url(url), "github.com/org/repo", "{url}");
        }
        assert_ne!(
            super::normalize_repo_url("https://github.com/org/other"),
            "github.com/org/repo"
        );
    }
}
