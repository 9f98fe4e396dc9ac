//! `invariant-lsp check`: discover, load, check in parallel, report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{self, Report, ReportedFinding};
use super::{CheckArgs, Format};
use crate::db::{line_index, Database};
use crate::model::Severity;
use crate::text::Encoding;
use crate::workspace::{discover_checked, find_root, Engine};

/// Exit codes (DESIGN §3.1).
pub const EXIT_CLEAN: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

/// `path` relative to `base`, with `..` where needed (for output paths relative to the cwd).
pub fn display_path(base: &Path, path: &Path) -> String {
    let base: Vec<_> = base.components().collect();
    let target: Vec<_> = path.components().collect();
    let common = base.iter().zip(&target).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), base.len() - common).collect();
    parts.extend(
        target[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Runs a check and returns the report (without printing); used by the CLI and by tests.
pub fn run(paths: &[PathBuf], models: &[PathBuf]) -> Result<Report, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![cwd.clone()]
    } else {
        paths.iter().map(|p| cwd.join(p)).collect()
    };
    for p in &paths {
        if !p.exists() {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    let root = find_root(&paths[0]);
    // One run checks one workspace (one configuration and model): paths in another one are an
    // error, never skipped with a warning and an exit 0.
    for p in &paths[1..] {
        let other = find_root(p);
        if other != root {
            return Err(format!(
                "{} belongs to the workspace {}, {} to {}: check one workspace per run",
                paths[0].display(),
                root.display(),
                p.display(),
                other.display()
            ));
        }
    }
    let models: Vec<PathBuf> = models.iter().map(|m| cwd.join(m)).collect();
    let mut engine = Engine::new(Database::default(), root.clone(), &models);
    let (rels, mut problems) = discover_checked(&root, &paths, &engine.config());
    problems.extend(engine.load(&rels));
    engine.model_errors.extend(problems);
    let files: Vec<_> = rels.iter().filter_map(|r| engine.files.get(r).copied()).collect();
    let results = engine.check_files(&files);
    Ok(build_report(&engine, &cwd, results))
}

fn build_report(
    engine: &Engine,
    cwd: &Path,
    results: Vec<(crate::db::SourceFile, Arc<Vec<crate::rules::Finding>>)>,
) -> Report {
    let db = &engine.db;
    let model = engine.model();
    let show = |rel: &str| display_path(cwd, &engine.root.join(rel));
    let mut report = Report {
        files_checked: results.len(),
        ..Report::default()
    };
    for error in &engine.model_errors {
        let path = if error.path.starts_with('<') {
            error.path.clone()
        } else {
            display_path(cwd, &engine.root.join(&error.path))
        };
        report.model_errors.push(output::ModelProblem {
            path,
            error: error.clone(),
        });
    }
    for (file, findings) in results {
        if findings.is_empty() {
            continue;
        }
        let rel = file.path(db);
        let text = file.text(db);
        let lines = line_index(db, file);
        report.sources.insert(show(rel), text.clone());
        for finding in findings.iter() {
            let related = finding
                .related
                .iter()
                .map(|r| {
                    let (range, source) = match engine.files.get(&r.path) {
                        Some(&other) => {
                            let other_text = other.text(db);
                            (
                                line_index(db, other).range(
                                    other_text,
                                    r.span.start as usize,
                                    r.span.end as usize,
                                    Encoding::Utf16,
                                ),
                                Some(other_text.clone()),
                            )
                        }
                        None => (Default::default(), None),
                    };
                    if let Some(source) = source {
                        report.sources.entry(show(&r.path)).or_insert(source);
                    }
                    output::ReportedRelated {
                        path: show(&r.path),
                        range,
                        span: r.span,
                        message: r.message.clone(),
                    }
                })
                .collect();
            report.findings.push(ReportedFinding {
                path: show(rel),
                range: lines.range(
                    text,
                    finding.span.start as usize,
                    finding.span.end as usize,
                    Encoding::Utf16,
                ),
                finding: finding.clone(),
                related,
            });
        }
    }
    report.rules = model.model.rules.clone();
    report
}

/// The `check` subcommand: prints the report and returns the exit code.
pub fn command(args: &CheckArgs) -> i32 {
    let report = match run(&args.paths, &args.model) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    let written = match args.format {
        Format::Human => output::human(&report, &mut stdout, &args.color),
        Format::Json => output::json(&report, &mut stdout),
        Format::Sarif => output::sarif(&report, &mut stdout),
    };
    if let Err(e) = written {
        eprintln!("error: writing the report: {e}");
        return EXIT_USAGE;
    }
    exit_code(&report)
}

pub fn exit_code(report: &Report) -> i32 {
    // A rule that panicked or a parse that ran out of time lost findings: not a clean run.
    let lost = report
        .findings
        .iter()
        .any(|f| matches!(f.finding.code.as_str(), "internal/rule-panic" | "internal/timeout"));
    if !report.model_errors.is_empty() || lost {
        EXIT_USAGE
    } else if report.findings.iter().any(|f| f.finding.severity == Severity::Error) {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}
