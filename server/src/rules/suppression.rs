//! Suppressions (DESIGN §3.3): `invariant:ignore <code-or-family> -- <reason>` on the line
//! above a finding silences it. A suppression without a reason, or one that silences nothing,
//! is itself reported, so stale ignores do not pile up.

use super::Finding;
use crate::facts::{Span, Suppression};

pub const MISSING_REASON: &str = "suppression/missing-reason";
pub const UNUSED: &str = "suppression/unused";

fn matches(code: &str, pattern: &str) -> bool {
    code == pattern || (code.starts_with(pattern) && code.as_bytes().get(pattern.len()) == Some(&b'/'))
}

/// Line numbers are derived from spans through `line_of`, so this works for any language.
pub fn apply(findings: Vec<Finding>, suppressions: &[Suppression], line_of: impl Fn(Span) -> usize) -> Vec<Finding> {
    let mut used = vec![false; suppressions.len()];
    let mut kept = Vec::with_capacity(findings.len());
    for finding in findings {
        let line = line_of(finding.span);
        let hit = suppressions.iter().enumerate().find(|(_, s)| {
            line_of(Span {
                start: s.span.end.saturating_sub(1),
                end: s.span.end,
            }) + 1
                == line
                && s.codes.iter().any(|c| matches(&finding.code, c))
        });
        match hit {
            Some((i, _)) => used[i] = true,
            None => kept.push(finding),
        }
    }
    for (suppression, used) in suppressions.iter().zip(used) {
        if suppression.codes.is_empty() {
            kept.push(Finding::new(
                UNUSED,
                suppression.span,
                "`invariant:ignore` names no rule code or family: write `invariant:ignore <code> -- <reason>`",
            ));
            continue;
        }
        // A placeholder such as the inserted `<why this is fine>` is not a reason.
        let placeholder = suppression.reason.as_deref().is_some_and(|r| {
            let r = r.trim();
            r.starts_with('<') && r.ends_with('>')
        });
        if suppression.reason.is_none() || placeholder {
            kept.push(Finding::new(
                MISSING_REASON,
                suppression.span,
                format!(
                    "suppression of `{}` gives no reason{}: write why this is fine after ` -- `",
                    suppression.codes.join(", "),
                    if placeholder { " (only a placeholder)" } else { "" }
                ),
            ));
        }
        if !used {
            kept.push(Finding::new(
                UNUSED,
                suppression.span,
                format!(
                    "suppression of `{}` matches no finding on the next line: remove it",
                    suppression.codes.join(", ")
                ),
            ));
        }
    }
    kept
}
