//! Git plumbing for `check --new-from-rev` and `impact --since`: find the repository, resolve a
//! revision, and export a revision's tree into a private directory from git objects alone (the
//! work tree and the index are never touched). Runs the `git` executable; every failure is a
//! message for the user. Also the remote URLs that name the repository (for ArgoCD sources).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn git(repo: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(repo);
    // No pager, no prompts, no user configuration that changes the output format.
    cmd.env("GIT_PAGER", "cat")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    cmd
}

fn run(mut cmd: Command, what: &str) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(format!("{what}: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
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
/// objects, through a temporary index inside `dest`'s own temporary sibling: neither the work
/// tree nor the repository's index is read or written.
pub fn export_tree(repo: &Path, rev: &str, dest: &Path) -> Result<(), String> {
    export_tree_skipping(repo, rev, dest, &[])
}

/// [`export_tree`] without the files under directories named in `skip` (at any depth, e.g.
/// `vendor`): what `check` would not read anyway need not be written.
pub fn export_tree_skipping(repo: &Path, rev: &str, dest: &Path, skip: &[&str]) -> Result<(), String> {
    let commit = resolve_rev(repo, rev)?;
    let index_dir = tempfile::Builder::new()
        .prefix("invariant-index-")
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let index = index_dir.path().join("index");
    let mut read = git(repo);
    read.env("GIT_INDEX_FILE", &index).args(["read-tree", &commit]);
    run(read, &format!("reading the tree of {rev}"))?;
    let mut prefix = dest.to_string_lossy().into_owned();
    if !prefix.ends_with('/') {
        prefix.push('/');
    }
    let mut list = git(repo);
    list.env("GIT_INDEX_FILE", &index).args(["ls-files", "-z"]);
    let listed = run(list, &format!("listing the tree of {rev}"))?;
    let wanted: Vec<&str> = listed
        .split('\0')
        .filter(|p| !p.is_empty() && !p.split('/').any(|part| skip.contains(&part)))
        .collect();
    let mut checkout = git(repo);
    checkout
        .env("GIT_INDEX_FILE", &index)
        .args(["checkout-index", "--force", "-z", "--stdin"])
        .arg(format!("--prefix={prefix}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = checkout
        .spawn()
        .map_err(|e| format!("exporting {rev}: cannot run git: {e}"))?;
    let feed = wanted.join("\0");
    let mut stdin = child.stdin.take().ok_or("exporting: no stdin")?;
    // Written from another thread: git may fill its stderr pipe before reading all of stdin.
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, feed.as_bytes()));
    let out = child.wait_with_output().map_err(|e| format!("exporting {rev}: {e}"))?;
    let written = writer.join().map_err(|_| format!("exporting {rev}: writer failed"))?;
    if !out.status.success() {
        return Err(format!(
            "exporting {rev}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    written.map_err(|e| format!("exporting {rev}: {e}"))?;
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
    diff.args(["diff", "--name-only", "--no-renames", "-z", &commit, "--"]);
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
