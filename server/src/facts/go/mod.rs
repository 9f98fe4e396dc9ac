//! Go facts: what a Go file says, in plain values the rules can read without the tree.
//!
//! - this module: the fact types ([`GoFacts`] and its parts) and lookups over them;
//! - [`syntax`]: Go syntax helpers (string literals, selector chains, types as written);
//! - [`extract`]: the walk over the tree that builds the facts, per top-level declaration;
//! - [`reuse`]: the same for a file being edited, reusing unchanged declarations' facts;
//! - [`object_sites`]: objects declared and read field by field (for the annotation bridge,
//!   found on demand by [`object_site_at`]);
//! - [`field_literals`]: strings and expressions written into named fields (reasons, messages);
//! - [`flow`], [`loops`], [`reasons`]: the walk's other visitors (types and values across
//!   functions, range loops and names bound to calls, where condition reasons come from);
//! - [`rebase`]: moving a declaration's facts to where it now starts.
//!
//! Suppression comments are language-neutral: [`crate::facts::suppression`].

mod extract;
mod field_literals;
pub mod flow;
pub mod loops;
mod object_sites;
pub mod reasons;
mod rebase;
mod reuse;
mod syntax;
pub(crate) use syntax::{GoNode, FIELD_IDS};

/// Go's predeclared type names: never a type of an imported package (not a dot-import candidate,
/// not a provider kind).
pub const GO_BUILTIN_TYPES: &[&str] = &[
    "bool",
    "byte",
    "complex64",
    "complex128",
    "error",
    "float32",
    "float64",
    "int",
    "int8",
    "int16",
    "int32",
    "int64",
    "rune",
    "string",
    "uint",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uintptr",
    "any",
    "comparable",
];

pub use super::suppression::parse_suppression;
pub use extract::extract;
pub use field_literals::{FieldExpr, FieldLiteral, FieldWrite};
pub use object_sites::{object_site_at, ObjectSite, ReadUse, SiteRead};
pub use reuse::{declarations_walked, extract_reusing};
/// For the flow and loop facts, built in the same walk (one copy of each helper).
pub(crate) use syntax::{chain_of, cut, span};
pub use syntax::{first_string_literal, string_literal};

use super::{Span, Suppression};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GoFacts {
    pub package: Option<String>,
    pub imports: Vec<Import>,
    pub functions: Vec<Function>,
    pub calls: Vec<Call>,
    /// References to members of imported packages: `alias.Name` in type or value position, and
    /// unqualified type names in files with dot imports.
    pub pkg_refs: Vec<PkgRef>,
    pub literals: Vec<CompositeLiteral>,
    pub consts: Vec<Const>,
    /// Package-level variable names declared in this file.
    pub globals: Vec<String>,
    pub assignments: Vec<Assignment>,
    /// Writes to string-ish variables (`x := ..`, `x = append(x, ..)`, `x += ..`,
    /// `x.WriteString(..)`, `fmt.Fprintf(x, ..)`), for how messages are built.
    pub string_writes: Vec<StringWrite>,
    /// Type names declared in this file.
    pub declared_types: Vec<String>,
    pub suppressions: Vec<Suppression>,
    /// String literals written into a named field other than in a composite literal (see
    /// [`FieldLiteral`]).
    pub field_literals: Vec<FieldLiteral>,
    /// `receiver.Field = <expression>` other than a string literal (see [`FieldExpr`]).
    pub field_exprs: Vec<FieldExpr>,
    /// Where condition reasons come from (see [`crate::facts::go::reasons`]).
    pub reasons: crate::facts::go::reasons::ReasonFacts,
    /// The tree has ERROR or MISSING nodes (half-typed code): facts are best effort.
    pub has_syntax_errors: bool,
    /// How the parse went (set by the database, which does the parsing).
    pub parse: crate::syntax::ParseOutcome,
    /// Types and values across functions and packages (see [`crate::facts::go::flow`]).
    pub flow: crate::facts::go::flow::FlowFacts,
    /// Range loops and names bound to calls (see [`crate::facts::go::loops`]).
    pub loops: crate::facts::go::loops::LoopFacts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    /// `import "x/y"`: the package name is used.
    Plain,
    /// `import alias "x/y"`.
    Named,
    /// `import . "x/y"`.
    Dot,
    /// `import _ "x/y"`.
    Blank,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: String,
    /// The name the file uses for the package (alias, or the guessed package name).
    pub local_name: String,
    pub kind: ImportKind,
    pub span: Span,
}

/// A type as written: `alias.Name`, `Name`, with pointers stripped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef {
    /// The import path, when the type is qualified by a known import alias.
    pub import: Option<String>,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: Option<String>,
    pub ty: Option<TypeRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// `None` for a function literal.
    pub name: Option<String>,
    /// For methods: the receiver variable and its type name.
    pub receiver: Option<(Option<String>, String)>,
    pub params: Vec<Param>,
    pub span: Span,
    /// The name (or `func` keyword for literals), where findings about the function point.
    pub name_span: Span,
    /// Index of the enclosing function, for literals.
    pub parent: Option<u32>,
    /// Names declared inside (parameters, `:=`, `var`, range variables).
    pub locals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Ident(String),
    /// A selector chain such as `h.adapt`.
    Selector(Vec<String>),
    /// A function literal: index into `functions`.
    FuncLit(u32),
    /// A string literal's value.
    Str(String),
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The callee as a chain: `cpContext.Client.Get` → `["cpContext", "Client", "Get"]`;
    /// non-identifier parts appear as `()` (call result), `[]` (index) or `?`.
    pub callee: Vec<String>,
    /// For `alias.Func(..)` with a known import: the import path.
    pub import: Option<String>,
    pub args: Vec<Arg>,
    pub span: Span,
    pub callee_span: Span,
    /// The innermost enclosing function.
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgRef {
    /// Import path; for dot-import candidates, `None` (every dot import is a candidate).
    pub import: Option<String>,
    pub name: String,
    pub span: Span,
    pub function: Option<u32>,
    /// In type position (`var x alias.T`, `&alias.T{}`), not a value (`alias.Func`).
    pub is_type: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedField {
    pub key: String,
    pub key_span: Span,
    pub value_span: Span,
    /// The value's source text, cut to a few hundred bytes.
    pub value_text: String,
    /// The value when it is a string literal.
    pub string_value: Option<String>,
    /// Identifiers the value mentions (up to 32; none for nested literals and function
    /// literals, whose own facts describe them).
    pub idents: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositeLiteral {
    pub ty: Option<TypeRef>,
    pub fields: Vec<KeyedField>,
    pub span: Span,
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Const {
    pub name: String,
    pub ty: Option<TypeRef>,
    /// The value when it is a single string literal.
    pub value: Option<String>,
    pub name_span: Span,
    pub value_span: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignTarget {
    /// Root identifier of the target (`x` in `x.y[0] = ..`).
    pub root: String,
    /// `true` when the target is written through a selector on an import (`pkg.Var = ..`).
    pub qualified_import: Option<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub targets: Vec<AssignTarget>,
    pub span: Span,
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringWrite {
    pub var: String,
    pub span: Span,
    pub function: Option<u32>,
    /// Inside a loop body: the variable grows per item.
    pub in_loop: bool,
    /// The first string literal written (the format of a `Sprintf`/`Fprintf`).
    pub first_literal: Option<String>,
}

impl GoFacts {
    pub fn import_by_name(&self, local: &str) -> Option<&Import> {
        import_named(&self.imports, local)
    }

    pub fn dot_imports(&self) -> impl Iterator<Item = &Import> {
        self.imports.iter().filter(|i| i.kind == ImportKind::Dot)
    }

    /// The function a byte offset lies in, innermost first.
    pub fn function_at(&self, offset: u32) -> Option<u32> {
        innermost(&self.functions, offset)
    }

    /// The enclosing named function (walking out of literals).
    pub fn named_function(&self, mut index: u32) -> u32 {
        while let Some(parent) = self.functions[index as usize].parent {
            if self.functions[index as usize].name.is_some() {
                break;
            }
            index = parent;
        }
        index
    }

    /// Is `name` declared locally in function `index` or in any function enclosing it?
    pub fn is_local(&self, mut index: Option<u32>, name: &str) -> bool {
        while let Some(i) = index {
            let function = &self.functions[i as usize];
            if function.locals.iter().any(|l| l == name) {
                return true;
            }
            index = function.parent;
        }
        false
    }
}

/// The import a file refers to as `local` (not a dot or blank import).
fn import_named<'a>(imports: &'a [Import], local: &str) -> Option<&'a Import> {
    imports
        .iter()
        .find(|i| i.local_name == local && matches!(i.kind, ImportKind::Plain | ImportKind::Named))
}

/// The path of the import a file refers to as `local`.
fn import_path(imports: &[Import], local: &str) -> Option<String> {
    import_named(imports, local).map(|i| i.path.clone())
}

fn innermost(functions: &[Function], offset: u32) -> Option<u32> {
    // Functions are sorted by start; the innermost container is the last one starting at or
    // before the offset whose span contains it (walking back through parents).
    // Spans nest, so a container starting before that last one is one of its ancestors: the
    // walk follows parents (linear in nesting depth; walking every earlier function made a file
    // of 75,000 function literals take 34 s).
    let last = functions.partition_point(|f| f.span.start <= offset).checked_sub(1)?;
    let mut index = Some(last as u32);
    while let Some(i) = index {
        let function = &functions[i as usize];
        if function.span.contains(offset) {
            return Some(i);
        }
        index = function.parent;
    }
    None
}

/// The package name Go gives an import without alias: the last path element, skipping a major
/// version suffix (`/v2`) and a `.vN` gopkg suffix; `go-foo` style prefixes are kept as written.
pub fn default_package_name(path: &str) -> String {
    let mut parts = path.rsplit('/');
    let mut last = parts.next().unwrap_or(path);
    let is_major = |s: &str| s.len() > 1 && s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit());
    if is_major(last) {
        if let Some(prev) = parts.next() {
            last = prev;
        }
    }
    let last = last.split('.').next().unwrap_or(last);
    last.trim_start_matches("go-").replace('-', "_")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_package_names() {
        assert_eq!(
            default_package_name("sigs.k8s.io/cluster-api-provider-aws/v2/api/v1beta2"),
            "v1beta2"
        );
        assert_eq!(default_package_name("github.com/foo/bar/v3"), "bar");
        assert_eq!(default_package_name("gopkg.in/yaml.v2"), "yaml");
        assert_eq!(default_package_name("net/http"), "http");
    }
}
