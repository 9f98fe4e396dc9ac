use clap::Parser;
use invariant_lsp::cli::{self, Cli, Command};

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
        Some(Command::Check(args)) => cli::check::command(&args),
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
