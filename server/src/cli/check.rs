//! `invariant-lsp check`: discover, load, check in parallel, report.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::output::{self, Report, ReportedFinding};
use super::CheckArgs;
use crate::config::ConfigChoice;
use crate::ide::analysis::{Analysis, AnalysisHost, FileId, Finding};
use crate::model::{ModelError, Severity};
use crate::text::Encoding;
use crate::vfs::{discover_checked, find_root};

/// Exit codes (README.md, "In CI").
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
    let paths = absolute_paths(&cwd, paths)?;
    let root = single_root(&paths)?;
    let models: Vec<PathBuf> = models.iter().map(|m| cwd.join(m)).collect();
    Ok(analyse(&cwd, &root, &paths, &models, &ConfigChoice::Workspace))
}

/// The paths to check, absolute; the current directory when none is given.
pub fn absolute_paths(cwd: &Path, paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![cwd.to_path_buf()]
    } else {
        paths.iter().map(|p| cwd.join(p)).collect()
    };
    for p in &paths {
        if !p.exists() {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(paths)
}

/// The one workspace `paths` (absolute) belong to. One run checks one workspace (one
/// configuration and model): paths in another one are an error, never skipped with a warning
/// and an exit 0.
pub fn single_root(paths: &[PathBuf]) -> Result<PathBuf, String> {
    let root = find_root(&paths[0]);
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
    Ok(root)
}

/// Checks `paths` (absolute) in the workspace at `root`; output paths are relative to `cwd`.
/// Files that could not be read are reported as problems (exit 2), never skipped.
pub fn analyse(cwd: &Path, root: &Path, paths: &[PathBuf], models: &[PathBuf], config: &ConfigChoice) -> Report {
    let started = std::time::Instant::now();
    let mut host = AnalysisHost::new(root.to_path_buf(), models, config);
    tracing::debug!(elapsed = ?started.elapsed(), "model and configuration loaded");
    let (rels, mut problems) = discover_checked(root, paths, &host.config().filter());
    tracing::debug!(files = rels.len(), elapsed = ?started.elapsed(), "discovered");
    problems.extend(host.load(&rels));
    host.add_model_errors(problems);
    tracing::debug!(elapsed = ?started.elapsed(), cpu = ?process_cpu(), "loaded");
    let analysis = host.analysis();
    let files: Vec<_> = rels.iter().filter_map(|r| analysis.file(r)).collect();
    let results = analysis.check_files(&files);
    tracing::debug!(elapsed = ?started.elapsed(), cpu = ?process_cpu(), "checked");
    let mut report = build_report(&analysis, host.model_errors(), cwd, results);
    tracing::debug!(elapsed = ?started.elapsed(), "reported");
    report.checked_paths = rels;
    // The database (every file's facts) is freed on a thread of its own: a `check` exits right
    // after printing, and freeing it here was the serial tail of a cold check (~40 ms on the
    // real tree). A command that goes on (`impact`) still gets the memory back.
    drop(analysis);
    std::thread::spawn(move || drop(host));
    report
}

/// The process's CPU time so far (user and system), for the phase timings in the debug log.
fn process_cpu() -> std::time::Duration {
    // SAFETY: getrusage writes into the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let time = |t: libc::timeval| std::time::Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}

fn build_report(
    analysis: &Analysis,
    model_errors: &[ModelError],
    cwd: &Path,
    results: Vec<(FileId, Arc<Vec<Finding>>)>,
) -> Report {
    let model = analysis.model().clone();
    let root = analysis.root().to_path_buf();
    let show = |rel: &str| display_path(cwd, &root.join(rel));
    let mut report = Report {
        files_checked: results.len(),
        root: root.clone(),
        repo_root: crate::vcs::toplevel(&root).unwrap_or_else(|_| root.clone()),
        model_name: model.model.name.clone(),
        model_sources: model.sources.clone(),
        information_uri: model.model.information_uri.clone(),
        rule_docs_url: model.model.rule_docs_url.clone(),
        configured_baseline: analysis.config().baseline.clone(),
        max_file_size: analysis.config().max_file_bytes(),
        ..Report::default()
    };
    for error in model_errors {
        let path = if error.path.starts_with('<') {
            error.path.clone()
        } else {
            display_path(cwd, &root.join(&error.path))
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
        let rel = analysis.path(file);
        let text = analysis.text(file);
        report.sources.insert(show(rel), text.clone());
        let fingerprints = analysis.fingerprints(file, &findings);
        for (finding, fingerprint) in findings.iter().zip(fingerprints) {
            let related = finding
                .related
                .iter()
                .map(|r| {
                    let (range, source) = match analysis.file(&r.path) {
                        Some(other) => (
                            analysis.range(other, r.span, Encoding::Utf16),
                            Some(analysis.text(other).clone()),
                        ),
                        None => (Default::default(), None),
                    };
                    if let Some(source) = source {
                        report.sources.entry(show(&r.path)).or_insert(source);
                    }
                    output::ReportedRelated {
                        path: show(&r.path),
                        rel: r.path.clone(),
                        range,
                        span: r.span,
                        message: r.message.clone(),
                    }
                })
                .collect();
            report.findings.push(ReportedFinding {
                path: show(rel),
                rel: rel.to_string(),
                fingerprint: fingerprint.fingerprint,
                declaration: fingerprint.declaration,
                range: analysis.range(file, finding.span, Encoding::Utf16),
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
    match command_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", super::formats::printable(&e));
            EXIT_USAGE
        }
    }
}

fn command_inner(args: &CheckArgs) -> Result<i32, String> {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    let outputs = super::formats::parse_outputs(&args.output)?;
    let paths = absolute_paths(&cwd, &args.paths)?;
    let root = single_root(&paths)?;
    let models: Vec<PathBuf> = args.model.iter().map(|m| cwd.join(m)).collect();
    let choice = if args.no_config {
        ConfigChoice::None
    } else if let Some(c) = &args.config {
        ConfigChoice::File(cwd.join(c))
    } else {
        ConfigChoice::Workspace
    };
    // Where reports and the baseline go, checked before anything is written: a link the tree
    // ships is refused (exit 2), never written through.
    let boundaries = [root.as_path(), cwd.as_path()];
    let mut output_targets = Vec::new();
    for (format, file) in &outputs {
        output_targets.push((
            *format,
            super::safe_write::checked_target(&cwd, Path::new(file), &boundaries)?,
        ));
    }
    let baseline_target = match &args.write_baseline {
        Some(path) => Some(super::safe_write::checked_target(&cwd, path, &boundaries)?),
        None => None,
    };
    if args.fix {
        let (fixed, problems) = super::fix::fixed_texts_checked(&root, &paths, &models, &choice);
        if args.diff {
            if let Some(path) = &args.baseline {
                // Not applied to a diff, but validated as `check` does.
                super::baseline::Baseline::read(None, &cwd.join(path))?;
            }
            let mut stdout = std::io::stdout().lock();
            for (rel, (before, after)) in &fixed {
                let shown = super::formats::printable(&display_path(&cwd, &root.join(rel)));
                std::io::Write::write_all(&mut stdout, super::fix::unified_diff(&shown, before, after).as_bytes())
                    .map_err(|e| e.to_string())?;
            }
            eprintln!(
                "{} file(s) would change (fixes that need no choice: deprecated keys renamed)",
                fixed.len()
            );
            for problem in &problems {
                let path = if problem.path.starts_with('<') {
                    problem.path.clone()
                } else {
                    display_path(&cwd, &root.join(&problem.path))
                };
                eprintln!(
                    "error: {}:{}:{}: {} [{}]",
                    super::formats::printable(&path),
                    problem.line.unwrap_or(0) + 1,
                    problem.column.unwrap_or(0) + 1,
                    super::formats::printable(&problem.message),
                    problem.code
                );
            }
            return Ok(if !problems.is_empty() {
                EXIT_USAGE
            } else if fixed.is_empty() {
                EXIT_CLEAN
            } else {
                EXIT_FINDINGS
            });
        }
        let mut refused = Vec::new();
        for (rel, (before, after)) in &fixed {
            let shown = super::formats::printable(&display_path(&cwd, &root.join(rel)));
            match super::safe_write::write_fix(&root, rel, before, after) {
                Ok(super::safe_write::FixWrite::Written) => eprintln!("fixed {shown}"),
                Ok(super::safe_write::FixWrite::ChangedMeanwhile) => {
                    eprintln!("warning: {shown}: changed since it was read; not fixed (run --fix again)")
                }
                Err(e) => refused.push(e),
            }
        }
        if !refused.is_empty() {
            return Err(refused.join("\nerror: "));
        }
    }
    let mut report = analyse(&cwd, &root, &paths, &models, &choice);
    eprintln!("{}", model_in_force(&report));

    if let Some(path) = &args.write_baseline {
        let entries = report
            .findings
            .iter()
            .map(|f| super::baseline::Fingerprinted {
                fingerprint: f.fingerprint.clone(),
                code: f.finding.code.clone(),
                path: f.rel.clone(),
                declaration: f.declaration.clone(),
                message: f.finding.message.clone(),
            })
            .collect::<Vec<_>>();
        let count = entries.len();
        let target = baseline_target.ok_or("no baseline target")?;
        super::baseline::Baseline::new(entries).write_to(&target)?;
        eprintln!("wrote {count} findings to the baseline {}", path.display());
        return Ok(if report.model_errors.is_empty() {
            EXIT_CLEAN
        } else {
            EXIT_USAGE
        });
    }

    // The baseline first, against every finding of the tree: after the revision filter it would
    // miss the findings that filter dropped and call their entries stale on every pull request.
    // A `--baseline` the user named is read where it is; the configured one (a file in the
    // tree) stays inside the root. Either way without blocking, and only a regular file.
    let baseline_path = match (&args.baseline, report.configured_baseline.clone()) {
        (Some(p), _) => Some((cwd.join(p), p.display().to_string(), None)),
        (None, Some(rel)) => Some((
            crate::config::confined(&root, &rel).map_err(|e| format!("baseline: {e}"))?,
            rel,
            Some(root.as_path()),
        )),
        (None, None) => None,
    };
    if let Some((path, display, confine)) = baseline_path {
        let baseline = super::baseline::Baseline::read(confine, &path)?;
        apply_baseline(&mut report, &baseline, display);
    }

    if let Some(rev) = &args.new_from_rev {
        apply_new_from_rev(&mut report, rev, &cwd, &paths, &models, &choice)?;
    }

    let mut stdout = std::io::stdout().lock();
    super::formats::write(&report, args.format, &mut stdout, &args.color)
        .map_err(|e| format!("writing the report: {e}"))?;
    if args.format == super::Format::Github {
        super::formats::append_step_summary(&report)?;
    }
    for (format, target) in output_targets {
        let mut out = Vec::new();
        super::formats::write(&report, format, &mut out, "never")
            .map_err(|e| format!("{}: {e}", target.path.display()))?;
        super::safe_write::write_target(&target, &out)?;
    }
    Ok(exit_code_at(&report, args.fail_on.threshold()))
}

/// One line for stderr: which model is in force and where it came from.
pub fn model_in_force(report: &Report) -> String {
    format!(
        "model: {} (from {})",
        report.model_name.as_deref().unwrap_or("unnamed"),
        report.model_sources.join(" + ")
    )
}

/// Drops the findings whose fingerprint the baseline holds; lists its entries that matched
/// nothing in the files checked (or whose file is gone).
pub fn apply_baseline(report: &mut Report, baseline: &super::baseline::Baseline, display: String) {
    let known = baseline.fingerprints();
    let mut outcome = super::baseline::BaselineOutcome {
        path: display,
        ..Default::default()
    };
    let mut matched = std::collections::BTreeSet::new();
    report.findings.retain(|f| {
        if known.contains(f.fingerprint.as_str()) {
            matched.insert(f.fingerprint.clone());
            *outcome.suppressed.entry(f.finding.code.clone()).or_default() += 1;
            false
        } else {
            true
        }
    });
    let checked: std::collections::HashSet<&str> = report.checked_paths.iter().map(String::as_str).collect();
    outcome.unmatched = baseline
        .entries
        .iter()
        .filter(|e| !matched.contains(&e.fingerprint))
        .filter(|e| checked.contains(e.path.as_str()) || !report.root.join(&e.path).exists())
        .cloned()
        .collect();
    report.baseline = Some(outcome);
}

/// Checks `rev` (exported from git objects into a private directory) with the same paths,
/// models and configuration choice, and keeps only the findings whose fingerprint is new.
fn apply_new_from_rev(
    report: &mut Report,
    rev: &str,
    cwd: &Path,
    paths: &[PathBuf],
    models: &[PathBuf],
    choice: &ConfigChoice,
) -> Result<(), String> {
    // Directories `check` skips need not be exported, unless a path names one.
    let names_skipped = paths.iter().any(|p| {
        p.components()
            .any(|c| crate::vfs::SKIPPED_DIRS.contains(&c.as_os_str().to_string_lossy().as_ref()))
    });
    let skip = if names_skipped {
        &[][..]
    } else {
        crate::vfs::SKIPPED_DIRS
    };
    let exported = super::baseline::Exported::new(&report.root, rev, skip)?;
    let old_root = exported
        .map(&report.root)
        .ok_or_else(|| format!("{}: not inside the repository", report.root.display()))?;
    let old_paths: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| exported.map(p))
        .filter(|p| p.exists())
        .collect();
    let old: std::collections::HashSet<String> = if old_paths.is_empty() || !old_root.is_dir() {
        Default::default()
    } else {
        analyse(cwd, &old_root, &old_paths, models, choice)
            .findings
            .into_iter()
            .map(|f| f.fingerprint)
            .collect()
    };
    let before = report.findings.len();
    report.findings.retain(|f| !old.contains(&f.fingerprint));
    report.new_from_rev = Some(super::baseline::NewFromRev {
        rev: rev.to_string(),
        commit: exported.commit.clone(),
        existing: before - report.findings.len(),
    });
    Ok(())
}

/// The exit code with the default threshold (error-severity findings fail the run).
pub fn exit_code(report: &Report) -> i32 {
    exit_code_at(report, Severity::Error)
}

/// The exit code when findings of `threshold` or above fail the run (`--fail-on`).
pub fn exit_code_at(report: &Report, threshold: Severity) -> i32 {
    // A rule that panicked, a parse that ran out of time or a file not checked (too large,
    // binary, over the analysis budget) lost findings: not a clean run.
    let lost = report.findings.iter().any(|f| {
        matches!(
            f.finding.code.as_str(),
            "internal/rule-panic" | "internal/timeout" | "internal/not-checked"
        )
    });
    if !report.model_errors.is_empty() || lost {
        EXIT_USAGE
    } else if report
        .findings
        .iter()
        .any(|f| f.finding.severity != Severity::Off && f.finding.severity >= threshold)
    {
        EXIT_FINDINGS
    } else {
        EXIT_CLEAN
    }
}
