use clap::Parser;
use invariant_lsp::cli::{self, Cli, Command};

/// mimalloc instead of the system allocator: the fact walks allocate many small vectors and
/// strings on every worker thread, and glibc's malloc and free were ~16 % of a cold `check`.
/// (tree-sitter's C code still allocates with libc's malloc.)
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` (mimalloc.h of v3, the version libmimalloc-sys builds by default):
/// after how many milliseconds freed memory goes back to the OS (default 1000); -1 for never.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// A run that ends when its report is out keeps the memory it freed instead of handing it back
/// and faulting it in again: on the real tree that was up to half a second of system time, from
/// one run to the next. The server keeps mimalloc's default, so its memory goes back once freed.
fn keep_freed_memory() {
    // SAFETY: sets a plain option; mimalloc reads it at its next purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}

fn main() {
    // Logs go to stderr: stdout carries the protocol (lsp) or the report (check).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("INVARIANT_LOG").unwrap_or_else(|_| "warn".into()))
        .with_ansi(false)
        .init();
    let cli = Cli::parse();
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
    /// The option number is mimalloc's purge delay: its default in v3 is 1000 ms.
    #[test]
    fn the_purge_delay_option_is_the_one_we_set() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            eprintln!("SKIPPED: MIMALLOC_PURGE_DELAY is set in the environment");
            return;
        }
        // SAFETY: reads a plain option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        assert_eq!(delay, 1000);
    }
}
