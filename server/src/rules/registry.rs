//! Rules as values, in one registry (go/analysis's `Analyzer` style). Each rule says what it is,
//! which codes it reports, which files concern it (decided from the path, the component and the
//! text, without parsing) and how it checks a file. The engine (`rules::check_file`) runs the
//! registered rules whose files these are, and the prefilters that decide whether a file is
//! parsed at all are the union of the rules' `concerns`: registering a rule is enough for its
//! files to be parsed and checked.

use super::{Finding, GoContext};
use crate::db::{SourceFile, Workspace};
use crate::facts::yaml::YamlFacts;
use crate::model::{CompiledModel, Component};
use crate::syntax::Lang;

/// The codes a rule reports.
pub enum Codes {
    /// A fixed list.
    Fixed(&'static [&'static str]),
    /// Derived from the model (e.g. one code per impure category of the adapt contract).
    FromModel(fn(&CompiledModel) -> Vec<String>),
}

/// What a rule's `concerns` sees: a file before it is parsed.
pub struct FileInput<'a> {
    pub path: &'a str,
    pub text: &'a str,
    pub model: &'a CompiledModel,
    pub component: Option<&'a Component>,
}

/// What every YAML rule sees.
pub struct YamlContext<'a> {
    pub db: &'a dyn salsa::Database,
    pub ws: Workspace,
    pub file: SourceFile,
    pub path: &'a str,
    pub facts: &'a YamlFacts,
    pub model: &'a CompiledModel,
}

/// How a rule checks one file (the language is the check's).
pub enum Check {
    Go(fn(&GoContext<'_>) -> Vec<Finding>),
    Yaml(fn(&YamlContext<'_>) -> Vec<Finding>),
}

/// One rule: a value the registry lists.
pub struct Rule {
    /// Its name, e.g. `capi-boundary`.
    pub name: &'static str,
    /// What it checks and what it needs (facts, model sections, other files).
    pub doc: &'static str,
    pub codes: Codes,
    /// Does the file concern this rule? Decided without parsing; `false` means the rule never
    /// sees the file, and a file no rule is concerned with (and without a suppression) is not
    /// parsed at all.
    pub concerns: fn(&FileInput<'_>) -> bool,
    pub check: Check,
}

impl Rule {
    pub fn lang(&self) -> Lang {
        match self.check {
            Check::Go(_) => Lang::Go,
            Check::Yaml(_) => Lang::Yaml,
        }
    }

    /// The codes it reports under `model`.
    pub fn codes(&self, model: &CompiledModel) -> Vec<String> {
        match &self.codes {
            Codes::Fixed(codes) => codes.iter().map(|c| c.to_string()).collect(),
            Codes::FromModel(codes) => codes(model),
        }
    }
}

/// Every rule. Adding a rule is adding a line here (and its model entries).
pub static RULES: &[&Rule] = &[
    &super::capi_boundary::RULE,
    &super::purity::RULE,
    &super::condition_naming::RULE,
    &super::kustomize::RULE,
    &super::lifecycle::RULE,
    &super::argocd::RULE,
    &super::condition_yaml::RULE,
    &super::per_item_calls::RULE,
];

/// Codes the engine itself reports around the rules (suppressions, unreadable files, a rule that
/// panicked, a parse over budget). `model/*` codes come from loading and verifying the model.
pub const ENGINE_CODES: &[&str] = &[
    super::suppression::MISSING_REASON,
    super::suppression::UNUSED,
    "internal/unreadable",
    "internal/rule-panic",
    "internal/timeout",
];

/// The registered rules of a language that the file concerns.
pub fn concerned(lang: Lang, input: &FileInput<'_>) -> Vec<&'static Rule> {
    RULES
        .iter()
        .copied()
        .filter(|r| r.lang() == lang && (r.concerns)(input))
        .collect()
}
