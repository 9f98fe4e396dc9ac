//! What an interrupted run leaves behind: nothing. The private directories a revision is
//! exported into (`check --new-from-rev`, `impact`, `render-diff`) are owner-only and are
//! registered here with the git children writing them; on SIGINT, SIGTERM or SIGHUP a handler
//! thread kills those children, removes those directories and ends the process with
//! 128 + the signal's number, as the default action would have (without the cleanup).
//!
//! The handler is installed the first time something registers, so the language server (which
//! exports nothing) keeps the default signal behaviour. Writers into a registered directory hold
//! [`writing`] around each file, so the handler never removes a directory that a writer then
//! recreates.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

#[derive(Default)]
pub struct Registry {
    dirs: BTreeSet<PathBuf>,
    children: BTreeSet<u32>,
    /// Set by the handler: nothing may be written any more.
    terminating: bool,
}

fn registry() -> MutexGuard<'static, Registry> {
    static REGISTRY: OnceLock<Mutex<Registry>> = OnceLock::new();
    let lock = REGISTRY.get_or_init(Default::default).lock();
    lock.unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn install_handler() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        match signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) {
            Ok(mut signals) => {
                std::thread::spawn(move || {
                    if let Some(signal) = signals.forever().next() {
                        clean_up_and_exit(signal);
                    }
                });
            }
            Err(e) => tracing::warn!("cannot install the signal handler: {e}"),
        }
    });
}

fn clean_up_and_exit(signal: i32) -> ! {
    // Held until the process ends: no writer starts another file, nobody registers again.
    let mut registry = registry();
    registry.terminating = true;
    for &pid in &registry.children {
        // SAFETY: kill takes plain integers; the pid is a child of ours that was not yet waited for.
        unsafe {
            libc::kill(pid as libc::pid_t, libc::SIGKILL);
        }
    }
    for dir in &registry.dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
    std::process::exit(128 + signal)
}

/// An owner-only (0700) temporary directory, removed when dropped and on a signal.
pub struct PrivateDir {
    dir: tempfile::TempDir,
}

impl PrivateDir {
    /// A new directory under the system's temporary directory, named `<prefix><random>`.
    pub fn new(prefix: &str) -> Result<PrivateDir, String> {
        #[cfg(unix)]
        let permissions = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::Permissions::from_mode(0o700)
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(prefix);
        #[cfg(unix)]
        builder.permissions(permissions);
        let dir = builder
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        register_dir(dir.path());
        Ok(PrivateDir { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        registry().dirs.remove(self.dir.path());
    }
}

/// Removes `dir` (and everything under it) if a signal ends the process.
pub fn register_dir(dir: &Path) {
    install_handler();
    registry().dirs.insert(dir.to_path_buf());
}

/// Kills the child `pid` if a signal ends the process, until [`child_done`].
pub fn register_child(pid: u32) {
    install_handler();
    registry().children.insert(pid);
}

pub fn child_done(pid: u32) {
    registry().children.remove(&pid);
}

/// Held while one file is written into a registered directory (the handler waits for it).
pub struct Writing(#[allow(dead_code)] MutexGuard<'static, Registry>);

/// A [`Writing`] guard; `None` once a signal is being handled (stop writing).
pub fn writing() -> Option<Writing> {
    let registry = registry();
    (!registry.terminating).then_some(Writing(registry))
}
