use clap::Parser;
use invariant_lsp::cli::{self, Cli, Command};

/// mimalloc instead of the system allocator: the fact walks allocate many small vectors and
/// strings on every worker thread, and glibc's malloc and free were ~15 % of a cold `check`'s perf samples.
/// (tree-sitter's C code still allocates with libc's malloc.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` (mimalloc.h of v3, the version libmimalloc-sys builds by default):
/// after how many milliseconds freed memory goes back to the OS (default 1000); -1 for never.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
/// `mi_option_allow_thp` (same header): may mimalloc ask for transparent huge pages (default 1)?
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// No transparent huge pages, in any mode. mimalloc asks for them (`madvise`) by default, and
/// with them the server's peak RSS on the real tree was 228-252 MB instead of 124 MB (a huge
/// page is resident as soon as one byte of it is touched) and a cold `check` spent 0.07-0.6 s
/// clearing pages, varying from run to run. The option stops mimalloc asking for new memory;
/// the process flag also covers memory it reserved before `main`.
fn no_huge_pages() {
    // SAFETY: sets a plain option; mimalloc reads it when it next maps memory.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0) };
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes integer arguments and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// A run that ends when its report is out keeps the memory it freed instead of handing it back
/// and faulting it in again. The server keeps mimalloc's default, so its memory goes back once
/// freed.
fn keep_freed_memory() {
    // SAFETY: sets a plain option; mimalloc reads it at its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

/// A report piped into `head` (or a closed terminal) ends the run quietly, as `cat` does: Rust
/// ignores SIGPIPE, so a write to a closed stdout is an error, and `println!` panics on it (a
/// backtrace and exit 101). The default action ends the process at that write, silently (shells
/// show 141). Not for the server: an editor that goes away is handled by the protocol loop.
fn quiet_on_closed_stdout() {
    #[cfg(unix)]
    // SAFETY: restores the default disposition of one signal; no handler of ours is involved.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    no_huge_pages();
    // Logs go to stderr: stdout carries the protocol (lsp) or the report (check).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("INVARIANT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
    if !matches!(cli.command, None | Some(Command::Lsp)) {
        quiet_on_closed_stdout();
    }
    let code = match cli.command {
        None | Some(Command::Lsp) => {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                // A person, not an editor: without this the server looks hung.
                eprintln!(
                    "invariant-lsp: serving the Language Server Protocol on stdin/stdout; an editor starts it this way.\n\
                     For a report on files, run `invariant-lsp check [PATH...]`; `invariant-lsp --help` lists the commands.\n\
                     Press Ctrl-D or Ctrl-C to quit."
                );
            }
            invariant_lsp::lsp::serve()
        }
        Some(Command::Check(args)) => {
            keep_freed_memory();
            cli::check::command(&args)
        }
        Some(Command::Explain {
            code,
            model,
            write_docs,
        }) => cli::explain(code.as_deref(), model, write_docs),
        Some(Command::Model { command }) => cli::model_command(command),
        Some(Command::Impact {
            path,
            since,
            format,
            model,
        }) => cli::impact::command(path.as_deref(), since.as_deref(), &model, format),
        Some(Command::RenderDiff(args)) => cli::render_diff::command(&args),
        Some(Command::Schema { kind }) => {
            print!("{}", cli::schema(kind));
            0
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    /// The option numbers are mimalloc's purge delay (default 1000 ms in v3) and THP switch
    /// (default on): a mimalloc with another option order fails here.
    #[test]
    fn the_option_numbers_are_the_ones_we_mean() {
        if std::env::vars_os().any(|(k, _)| k.to_string_lossy().starts_with("MIMALLOC_")) {
            eprintln!("SKIPPED: MIMALLOC_* options are set in the environment");
            return;
        }
        // SAFETY: reads plain options.
        let (delay, thp) = unsafe {
            (
                libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY),
                libmimalloc_sys::mi_option_get(super::MI_OPTION_ALLOW_THP),
            )
        };
        assert_eq!((delay, thp), (1000, 1));
    }
}
