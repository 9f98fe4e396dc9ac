//! The command line: `check` for CI, `explain` for rule documentation, `schema` for the model's
//! JSON Schema, and `lsp` (the default) for editors.

pub mod baseline;
pub mod check;
pub mod docs;
pub mod escape;
pub mod fix;
pub mod formats;
pub mod impact;
pub mod output;
pub mod render_diff;
pub mod render_inputs;
pub mod safe_write;
pub mod verify;

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
        /// Write every rule's page as markdown under DIR (`DIR/<family>/<name>.md`).
        #[arg(long, value_name = "DIR")]
        write_docs: Option<PathBuf>,
    },
    /// The domain model: `verify` reconciles it with the workspace.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// The platform blast radius of the changes since a revision, for review.
    Impact {
        /// The workspace (default: the current directory).
        path: Option<PathBuf>,
        /// Compare with this revision (default: the merge base with the default branch).
        #[arg(long, value_name = "REV")]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = impact::ImpactFormat::Human)]
        format: impact::ImpactFormat,
        /// A domain-model file merged over the default model (and the workspace's).
        #[arg(long)]
        model: Vec<PathBuf>,
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

#[derive(Subcommand, Debug)]
pub enum ModelCommand {
    /// Report model entries that no longer match the workspace (`model/stale-*`).
    Verify {
        /// The workspace (default: the current directory).
        path: Option<PathBuf>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// A domain-model file merged over the default model (and the workspace's).
        #[arg(long)]
        model: Vec<PathBuf>,
        /// Read this configuration file instead of the workspace's `.invariant.yaml`.
        #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
        config: Option<PathBuf>,
        /// Read no configuration file.
        #[arg(long)]
        no_config: bool,
        #[arg(long, default_value = "auto")]
        color: String,
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
    /// GitHub Actions workflow commands (annotations), then the human log.
    Github,
    /// reviewdog's Diagnostic Format (rdjson): one JSON document for the run (rdjsonl, one
    /// object per line, is another format).
    Rdjson,
    Checkstyle,
    /// One line per finding: `path:line:column: severity[code]: message`.
    Short,
}

/// The lowest severity that fails a `check` (exit 1), in SARIF's words.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq, Default)]
pub enum FailOn {
    /// Error-severity findings only.
    #[default]
    Error,
    /// Warnings and errors.
    Warning,
    /// Every reported finding (notes are info and hint).
    Note,
}

impl FailOn {
    /// The lowest severity that fails the run.
    pub fn threshold(self) -> crate::model::Severity {
        match self {
            FailOn::Error => crate::model::Severity::Error,
            FailOn::Warning => crate::model::Severity::Warning,
            FailOn::Note => crate::model::Severity::Hint,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Files or directories to check (default: the current directory).
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The lowest severity of a reported finding that makes the run fail (exit 1).
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// A domain-model file merged over the default model (and the workspace's).
    #[arg(long)]
    pub model: Vec<PathBuf>,
    /// Colour in human output: auto, always or never.
    #[arg(long, default_value = "auto")]
    pub color: String,
    /// Also write a report in FORMAT to FILE (`--output sarif=results.sarif`); repeatable.
    #[arg(long, value_name = "FORMAT=FILE")]
    pub output: Vec<String>,
    /// Write every finding's fingerprint to FILE: they are accepted from now on.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Do not report findings this baseline file holds (default: `.invariant.yaml`'s `baseline`).
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    pub baseline: Option<PathBuf>,
    /// Report only findings that are new since this git revision (by fingerprint, not by line).
    #[arg(long, value_name = "REV")]
    pub new_from_rev: Option<String>,
    /// Read this configuration file instead of the workspace's `.invariant.yaml`.
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no configuration file: the built-in model and `--model` files only.
    #[arg(long)]
    pub no_config: bool,
    /// Apply the fixes that need no choice (renaming deprecated keys whose value keeps its
    /// shape), then report what remains.
    #[arg(long)]
    pub fix: bool,
    /// With --fix: print the changes as a unified diff instead of writing them (exit 1 when any,
    /// 2 over a problem `check` would report). It writes no report or baseline and compares with
    /// no revision, so it refuses --output, --write-baseline and --new-from-rev.
    #[arg(long, requires = "fix", conflicts_with_all = ["output", "write_baseline", "new_from_rev"])]
    pub diff: bool,
}

/// Prints a rule's explanation (or writes every rule's page); returns the process exit code.
pub fn explain(code: Option<&str>, model_path: Option<PathBuf>, write_docs: Option<PathBuf>) -> i32 {
    let root = std::env::current_dir().unwrap_or_default();
    let extra: Vec<PathBuf> = model_path.into_iter().collect();
    let loaded = crate::config::load_workspace(&crate::vfs::find_root(&root), &extra);
    for e in &loaded.errors {
        eprintln!("error: {e}");
    }
    let rules = &loaded.model.model.rules;
    if let Some(dir) = write_docs {
        return match docs::write_all(rules, loaded.model.model.name.as_deref(), &dir) {
            Ok(n) => {
                eprintln!("wrote {n} rule pages under {}", dir.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                2
            }
        };
    }
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
                let known = crate::ide::analysis::known_helpers(&loaded.model, &rule.code);
                println!(
                    "# {} ({})\n\n{}\n\n{}{known}",
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

/// `invariant-lsp model ...`.
pub fn model_command(command: ModelCommand) -> i32 {
    match command {
        ModelCommand::Verify {
            path,
            format,
            model,
            config,
            no_config,
            color,
        } => {
            let choice = match (no_config, config) {
                (true, _) => crate::config::ConfigChoice::None,
                (false, Some(c)) => {
                    crate::config::ConfigChoice::File(std::env::current_dir().unwrap_or_default().join(c))
                }
                (false, None) => crate::config::ConfigChoice::Workspace,
            };
            verify::command(path.as_deref(), &model, &choice, format, &color)
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
