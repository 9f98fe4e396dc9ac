//! Go syntax helpers: values read off tree-sitter nodes (string literals, selector chains,
//! types as written, spans), shared by the extractors.

use tree_sitter::Node;

use crate::facts::Span;
use crate::syntax::{descendants, node_text};

/// Long expression texts are cut to this many bytes: rules look at their start only.
pub(super) const MAX_VALUE_TEXT: usize = 240;

pub(crate) fn span(node: Node<'_>) -> Span {
    Span {
        start: node.start_byte() as u32,
        end: node.end_byte() as u32,
    }
}

/// The value of a Go string literal (interpreted or raw); escapes are kept as written except
/// `\"`, which is enough for the names and messages the rules read.
pub fn string_literal(node: Node<'_>, text: &str) -> Option<String> {
    match node.go_kind() {
        "interpreted_string_literal" => {
            let raw = node_text(node, text);
            let inner = raw.strip_prefix('"')?.strip_suffix('"').unwrap_or(raw.get(1..)?);
            Some(inner.replace("\\\"", "\""))
        }
        "raw_string_literal" => {
            let raw = node_text(node, text);
            Some(raw.trim_matches('`').to_string())
        }
        _ => None,
    }
}

/// Flattens a callee or selector into a chain of names.
fn chain(node: Node<'_>, text: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push("?".into());
        return;
    }
    match node.go_kind() {
        "identifier" | "field_identifier" | "package_identifier" | "type_identifier" => {
            out.push(node_text(node, text).to_string())
        }
        "selector_expression" => {
            if let Some(operand) = node.go_field("operand") {
                chain(operand, text, out, depth + 1);
            }
            if let Some(field) = node.go_field("field") {
                out.push(node_text(field, text).to_string());
            }
        }
        "call_expression" => {
            if let Some(function) = node.go_field("function") {
                chain(function, text, out, depth + 1);
            }
            out.push("()".into());
        }
        "index_expression" => {
            if let Some(operand) = node.go_field("operand") {
                chain(operand, text, out, depth + 1);
            }
            out.push("[]".into());
        }
        "parenthesized_expression" => match node.named_child(0) {
            Some(inner) => chain(inner, text, out, depth + 1),
            None => out.push("?".into()),
        },
        "unary_expression" => match node.go_field("operand") {
            Some(operand) => chain(operand, text, out, depth + 1),
            None => out.push("?".into()),
        },
        _ => out.push("?".into()),
    }
}

pub(crate) fn chain_of(node: Node<'_>, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    chain(node, text, &mut out, 0);
    out
}

/// A type as written, before its qualifier is resolved against the file's imports:
/// `alias.Name` or `Name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WrittenType {
    /// The package alias (`capiaws` in `capiaws.AWSMachine`).
    pub(super) qualifier: Option<String>,
    pub(super) name: String,
}

impl WrittenType {
    fn of(qualifier: Option<&str>, name: &str) -> WrittenType {
        WrittenType {
            qualifier: qualifier.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// A type node as written (pointers, parentheses and type arguments stripped).
pub(super) fn written_type(node: Node<'_>, text: &str) -> Option<WrittenType> {
    let mut node = node;
    for _ in 0..16 {
        match node.go_kind() {
            "pointer_type" | "parenthesized_type" => node = node.named_child(0)?,
            "generic_type" => node = node.go_field("type")?,
            "qualified_type" => return qualified_type(node, text),
            "type_identifier" => return Some(WrittenType::of(None, node_text(node, text))),
            _ => return None,
        }
    }
    None
}

/// A type node as written with pointers and parentheses stripped (not type arguments: a
/// generic type is no object type).
pub(super) fn written_object_type(node: Node<'_>, text: &str) -> Option<WrittenType> {
    let mut node = node;
    while matches!(node.go_kind(), "pointer_type" | "parenthesized_type") {
        node = node.named_child(0)?;
    }
    match node.go_kind() {
        "qualified_type" => qualified_type(node, text),
        "type_identifier" => Some(WrittenType::of(None, node_text(node, text))),
        _ => None,
    }
}

fn qualified_type(node: Node<'_>, text: &str) -> Option<WrittenType> {
    let package = node.go_field("package")?;
    let name = node.go_field("name")?;
    Some(WrittenType::of(Some(node_text(package, text)), node_text(name, text)))
}

pub(super) fn collect_idents(node: Node<'_>, text: &str, out: &mut Vec<String>) {
    let idents = descendants(node).filter(|n| n.go_kind() == "identifier").take(32);
    out.extend(idents.map(|n| node_text(n, text).to_string()));
}

pub(crate) fn cut(s: &str) -> String {
    if s.len() <= MAX_VALUE_TEXT {
        return s.to_string();
    }
    let end = crate::text::clamp_to_char_boundary(s, MAX_VALUE_TEXT);
    s[..end].to_string()
}

/// The contents of the first `"..."` in an expression's text (the format of a `Sprintf`).
pub fn first_string_literal(text: &str) -> Option<&str> {
    let start = text.find('"')? + 1;
    let bytes = text.as_bytes();
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return text.get(start..i),
            _ => i += 1,
        }
    }
    None
}

pub(super) fn string_node_value(node: Node<'_>, text: &str) -> Option<String> {
    matches!(node.go_kind(), "interpreted_string_literal" | "raw_string_literal")
        .then(|| string_literal(node, text))
        .flatten()
}

/// Field ids of the Go grammar the facts walk reads (tree-sitter compares names as strings on
/// every lookup by name).
pub(crate) struct FieldIds {
    pub(crate) name: u16,
    pub(crate) path: u16,
    pub(crate) parameters: u16,
    pub(crate) receiver: u16,
    pub(crate) function: u16,
    pub(crate) arguments: u16,
    pub(crate) package: u16,
    pub(crate) operand: u16,
    pub(crate) field: u16,
    pub(crate) type_: u16,
    pub(crate) body: u16,
    pub(crate) value: u16,
    pub(crate) left: u16,
    pub(crate) right: u16,
    pub(crate) key: u16,
}

pub(crate) static FIELD_IDS: std::sync::LazyLock<FieldIds> = std::sync::LazyLock::new(|| {
    let language = crate::syntax::Lang::Go.language();
    let id = |name: &str| {
        language
            .field_id_for_name(name)
            .map(|id| id.get())
            .unwrap_or_else(|| panic!("the Go grammar has a `{name}` field"))
    };
    FieldIds {
        name: id("name"),
        path: id("path"),
        parameters: id("parameters"),
        receiver: id("receiver"),
        function: id("function"),
        arguments: id("arguments"),
        package: id("package"),
        operand: id("operand"),
        field: id("field"),
        type_: id("type"),
        body: id("body"),
        value: id("value"),
        left: id("left"),
        right: id("right"),
        key: id("key"),
    }
});

/// Kind and field lookups for Go nodes that cost a table index. tree-sitter's `Node::kind`
/// reads the kind's name as a C string and checks it is UTF-8 on every call, and
/// `child_by_field_name` compares the name with every field name of the grammar; the fact walks
/// ask both for nearly every node (together ~10% of a cold `check`'s instructions).
pub(crate) trait GoNode<'t> {
    /// `Node::kind`, from a table built once.
    fn go_kind(&self) -> &'static str;
    /// `Node::child_by_field_name` for a name the Go grammar has.
    fn go_field(&self, name: &'static str) -> Option<Node<'t>>;
}

/// The Go grammar, kept for the names the tables below borrow from it.
static GO_LANGUAGE: std::sync::LazyLock<tree_sitter::Language> =
    std::sync::LazyLock::new(|| crate::syntax::Lang::Go.language());

static GO_KINDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let language = &*GO_LANGUAGE;
    (0..language.node_kind_count() as u16)
        .map(|id| language.node_kind_for_id(id).unwrap_or(""))
        .collect()
});

/// The field ids of the names the facts ask for (a `match` on a literal compiles to a length
/// switch and one comparison).
fn go_field_id(name: &'static str) -> Option<u16> {
    static IDS: std::sync::LazyLock<Vec<(&'static str, u16)>> = std::sync::LazyLock::new(|| {
        let language = &*GO_LANGUAGE;
        (1..=language.field_count() as u16)
            .filter_map(|id| Some((language.field_name_for_id(id)?, id)))
            .collect()
    });
    let f = &*FIELD_IDS;
    Some(match name {
        "name" => f.name,
        "path" => f.path,
        "parameters" => f.parameters,
        "receiver" => f.receiver,
        "function" => f.function,
        "arguments" => f.arguments,
        "package" => f.package,
        "operand" => f.operand,
        "field" => f.field,
        "type" => f.type_,
        "body" => f.body,
        "value" => f.value,
        "left" => f.left,
        "right" => f.right,
        "key" => f.key,
        _ => return IDS.iter().find(|(n, _)| *n == name).map(|(_, id)| *id),
    })
}

impl<'t> GoNode<'t> for Node<'t> {
    fn go_kind(&self) -> &'static str {
        GO_KINDS.get(self.kind_id() as usize).copied().unwrap_or("")
    }

    fn go_field(&self, name: &'static str) -> Option<Node<'t>> {
        match go_field_id(name) {
            Some(id) => self.child_by_field_id(id),
            None => self.go_field(name),
        }
    }
}

#[cfg(test)]
mod go_node_tests {
    use super::GoNode;

    #[test]
    fn table_lookups_agree_with_tree_sitter() {
        let src = "package p\n\nfunc f(a int) (s string) {\n\tx := &T{A: a}\n\tif err := c.Get(ctx, k, x); err != nil {\n\t\treturn x.Status.Reason\n\t}\n\tfor i := range xs {\n\t\t_ = i\n\t}\n\treturn\n}\n";
        let parsed = crate::syntax::parse(crate::syntax::Lang::Go, src, None);
        let tree = parsed.tree.expect("parsed");
        let mut kinds = 0;
        let mut fields = 0;
        for node in crate::syntax::descendants(tree.root_node()) {
            assert_eq!(node.go_kind(), node.go_kind());
            kinds += 1;
            for name in [
                "name",
                "body",
                "left",
                "right",
                "operand",
                "field",
                "type",
                "value",
                "function",
                "arguments",
                "parameters",
                "result",
                "initializer",
                "alternative",
                "key",
                "operator",
                "element",
            ] {
                assert_eq!(node.go_field(name), node.go_field(name), "{} .{name}", node.go_kind());
                fields += usize::from(node.go_field(name).is_some());
            }
        }
        assert!(
            kinds > 50 && fields > 20,
            "the sample exercises the tables ({kinds} kinds, {fields} fields)"
        );
    }
}
