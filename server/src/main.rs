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
        None | Some(Command::Lsp) => invariant_lsp::lsp::serve(),
        Some(Command::Check(args)) => cli::check::command(&args),
        Some(Command::RenderDiff(args)) => cli::render_diff::command(&args),
        Some(Command::Explain { code, model }) => cli::explain(code.as_deref(), model),
        Some(Command::Schema { kind }) => {
            print!("{}", cli::schema(kind));
            0
        }
    };
    std::process::exit(code);
}
