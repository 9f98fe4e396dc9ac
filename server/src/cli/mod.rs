//! The command line: `check` for CI, `explain` for rule documentation, `schema` for the model's
//! JSON Schema, and `lsp` (the default) for editors.

pub mod check;
pub mod output;
pub mod render_diff;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "invariant-lsp",
    version,
    about = "Guards the architecture of Kubernetes operator code: a language server and a CI checker"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Accepted and ignored: stdio is the only transport (many clients pass it).
    #[arg(long, hide = true, global = true)]
    pub stdio: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the Language Server Protocol on stdio (the default).
    Lsp,
    /// Check files or directories and report findings.
    Check(CheckArgs),
    /// Print a rule's explanation, or list every rule.
    Explain {
        /// A rule code (`capi-boundary/provider-read`) or family (`adapt-purity`).
        code: Option<String>,
        /// Read the rules from this model file merged over the default one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Render every ArgoCD Application of this repository at a revision and in the working
    /// tree, and compare them.
    RenderDiff(render_diff::RenderDiffArgs),
    /// Print the JSON Schema of domain-model files (for yaml-language-server).
    Schema {
        /// Which schema: the domain model or `.invariant.yaml`.
        #[arg(value_enum, default_value_t = SchemaKind::Model)]
        kind: SchemaKind,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum SchemaKind {
    Model,
    Config,
}

#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Human,
    Json,
    Sarif,
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// A domain-model file merged over the default model (and the workspace's).
    #[arg(long)]
    pub model: Vec<PathBuf>,
    /// Colour in human output: auto, always or never.
    #[arg(long, default_value = "auto")]
    pub color: String,
}

/// Prints a rule's explanation; returns the process exit code.
pub fn explain(code: Option<&str>, model_path: Option<PathBuf>) -> i32 {
    let root = std::env::current_dir().unwrap_or_default();
    let extra: Vec<PathBuf> = model_path.into_iter().collect();
    let loaded = crate::config::load_workspace(&crate::workspace::find_root(&root), &extra);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let rules = &loaded.model.model.rules;
    match code {
        None => {
            for rule in rules {
                println!("{:<40} {:<8} {}", rule.code, rule.severity.as_str(), rule.title);
            }
            0
        }
        Some(code) => {
            let matching: Vec<_> = rules
                .iter()
                .filter(|r| r.code == code || r.code.strip_prefix(code).is_some_and(|rest| rest.starts_with('/')))
                .collect();
            if matching.is_empty() {
                eprintln!("error: no rule `{code}`; `invariant-lsp explain` lists them");
                return 2;
            }
            for rule in matching {
                println!(
                    "# {} ({})\n\n{}\n\n{}",
                    rule.code,
                    rule.severity.as_str(),
                    rule.title,
                    rule.explanation.trim_end()
                );
                println!();
            }
            0
        }
    }
}

pub fn schema(kind: SchemaKind) -> String {
    let schema = match kind {
        SchemaKind::Model => schemars::schema_for!(crate::model::DomainModel),
        SchemaKind::Config => schemars::schema_for!(crate::config::Config),
    };
    serde_json::to_string_pretty(&schema).unwrap_or_default() + "\n"
}
