//! Git plumbing through the `git` command: the repository's top level, revisions, the merge
//! base with the default branch, exporting a tree from git objects (never touching the work
//! tree), and the remote URLs that name the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn git(repo: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    } else {
        Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The top-level directory of the work tree holding `path`.
pub fn toplevel(path: &Path) -> Result<PathBuf, String> {
    git(path, &["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}

/// The full commit hash `rev` names.
pub fn resolve_rev(repo: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') {
        return Err(format!("`{rev}` is not a revision"));
    }
    git(
        repo,
        &[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
}

/// The merge base of `HEAD` with the default branch: `origin/HEAD` when the remote names
/// one, else the first of `origin/main`, `origin/master`, `main`, `master` that exists.
pub fn default_merge_base(repo: &Path) -> Result<String, String> {
    let mut candidates: Vec<String> = Vec::new();
    if let Ok(head) = git(repo, &["symbolic-ref", "--quiet", "refs/remotes/origin/HEAD"]) {
        candidates.push(head);
    }
    candidates.extend(["origin/main", "origin/master", "main", "master"].map(String::from));
    for candidate in &candidates {
        if resolve_rev(repo, candidate).is_ok() {
            return git(repo, &["merge-base", "HEAD", candidate]);
        }
    }
    Err("no default branch found (origin/HEAD, origin/main, origin/master, main, master): pass --since REV".into())
}

/// Writes the tree of `rev` into `dest` (an existing, empty directory) from git objects.
pub fn export_tree(repo: &Path, rev: &str, dest: &Path) -> Result<(), String> {
    let commit = resolve_rev(repo, rev)?;
    let mut archive = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["archive", "--format=tar", &commit])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let stdout = archive.stdout.take().ok_or("git archive: no output")?;
    let tar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(dest)
        .stdin(stdout)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    let archived = archive.wait_with_output().map_err(|e| e.to_string())?;
    if !archived.status.success() {
        return Err(format!(
            "git archive {commit}: {}",
            String::from_utf8_lossy(&archived.stderr).trim()
        ));
    }
    if !tar.status.success() {
        return Err(format!("tar: {}", String::from_utf8_lossy(&tar.stderr).trim()));
    }
    Ok(())
}

/// The fetch URLs of the repository's remotes (empty when it has none or is no repository).
pub fn remote_urls(repo: &Path) -> Vec<String> {
    let Ok(text) = git(repo, &["remote", "-v"]) else {
        return Vec::new();
    };
    let mut urls: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(str::to_string)
        .collect();
    urls.sort();
    urls.dedup();
    urls
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
    use super::normalize_repo_url;

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
            assert_eq!(normalize_repo_url(url), "github.com/org/repo", "{url}");
        }
        assert_ne!(
            normalize_repo_url("https://github.com/org/other"),
            "github.com/org/repo"
        );
    }
}
