//! Go facts about how values and types travel between functions and packages: type aliases,
//! unqualified type names used, function result types, local variables of imported types, and
//! object-reference fields (`m.Spec.InfrastructureRef`). Read by the CAPI-boundary summaries
//! (provider Machines and hosted-cluster clients carried across functions and packages) and by
//! the purity summaries (method calls into other packages on a receiver of known type).

use crate::facts::go::GoNode;
use tree_sitter::Node;

use super::Span;
use super::{GoFacts, TypeRef};
use crate::syntax::node_text;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowFacts {
    /// `type X = alias.Kind`, at package level or in a function.
    pub type_aliases: Vec<TypeAlias>,
    /// Unqualified type names as used (not declared) in this file, builtins left out.
    pub type_uses: Vec<TypeUse>,
    /// Result types of functions, by index into [`GoFacts::functions`] (pointers, slices, arrays
    /// and maps' values stripped: `[]*capz.AzureMachine` is `capz.AzureMachine`).
    pub results: Vec<(u32, Vec<TypeRef>)>,
    /// Local variables whose type is known from their declaration (`var x T`, `x := &pkg.T{..}`,
    /// `x := pkg.T{..}`): function index, name, type.
    pub var_types: Vec<(u32, String, TypeRef)>,
    /// Selector expressions naming an object-reference field (`..Ref`): the chain and its span.
    pub ref_fields: Vec<RefField>,
    /// Local variables initialised with a keyed composite literal (`opts := pkg.Options{A: ..}`):
    /// function index, name, the keys set.
    pub var_fields: Vec<(u32, String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeAlias {
    pub name: String,
    pub target: TypeRef,
    /// The target as written (`agentv1.AgentMachine`).
    pub written: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeUse {
    pub name: String,
    pub span: Span,
    pub function: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefField {
    /// `m.Spec.InfrastructureRef` → `["m", "Spec", "InfrastructureRef"]`.
    pub chain: Vec<String>,
    pub span: Span,
}

impl FlowFacts {
    /// The declared type of local variable `name` visible in function `scope`.
    pub fn var_type<'a>(&'a self, facts: &'a GoFacts, scope: Option<u32>, name: &str) -> Option<&'a TypeRef> {
        let mut scope = scope;
        while let Some(i) = scope {
            let at = self.var_types.partition_point(|(f, n, _)| (*f, n.as_str()) < (i, name));
            if let Some((_, _, ty)) = self.var_types.get(at).filter(|(f, n, _)| *f == i && n == name) {
                return Some(ty);
            }
            let f = &facts.functions[i as usize];
            if let Some(p) = f.params.iter().find(|p| p.name.as_deref() == Some(name)) {
                return p.ty.as_ref();
            }
            scope = f.parent;
        }
        None
    }

    /// The keys of the keyed literal local variable `name` of function `function` holds.
    pub fn var_fields_of(&self, function: u32, name: &str) -> Option<&[String]> {
        let at = self
            .var_fields
            .partition_point(|(f, n, _)| (*f, n.as_str()) < (function, name));
        self.var_fields
            .get(at)
            .filter(|(f, n, _)| *f == function && n == name)
            .map(|(_, _, keys)| keys.as_slice())
    }

    pub fn results_of(&self, function: u32) -> &[TypeRef] {
        self.results
            .iter()
            .find(|(f, _)| *f == function)
            .map(|(_, r)| r.as_slice())
            .unwrap_or(&[])
    }
}

/// The named type under pointers, slices, arrays, map values, channels and parentheses. Its
/// qualifier is left as written in `import` (see [`FlowWalk`]).
fn base_type(node: Node<'_>, text: &str) -> Option<TypeRef> {
    let mut node = node;
    for _ in 0..16 {
        match node.go_kind() {
            "pointer_type" | "parenthesized_type" => node = node.named_child(0)?,
            "slice_type" | "array_type" | "channel_type" => {
                node = node.go_field("element").or_else(|| node.go_field("value"))?
            }
            "map_type" => node = node.go_field("value")?,
            "generic_type" => node = node.go_field("type")?,
            "qualified_type" => {
                let alias = node_text(node.go_field("package")?, text).to_string();
                let name = node_text(node.go_field("name")?, text).to_string();
                return Some(TypeRef {
                    import: Some(alias),
                    name,
                });
            }
            "type_identifier" => {
                return Some(TypeRef {
                    import: None,
                    name: node_text(node, text).to_string(),
                })
            }
            _ => return None,
        }
    }
    None
}

/// The type of a composite literal value, through `&`.
fn literal_type(node: Node<'_>, text: &str) -> Option<TypeRef> {
    let mut node = node;
    if node.go_kind() == "unary_expression" && node.go_field("operator").is_some_and(|o| o.go_kind() == "&") {
        node = node.go_field("operand")?;
    }
    (node.go_kind() == "composite_literal")
        .then(|| node.go_field("type"))
        .flatten()
        .and_then(|t| base_type(t, text))
}

/// The keys of a keyed composite literal (through `&`); `None` for a positional one.
fn literal_keys(node: Node<'_>, text: &str) -> Option<Vec<String>> {
    let mut node = node;
    if node.go_kind() == "unary_expression" {
        node = node.go_field("operand")?;
    }
    let body = node.go_field("body")?;
    let mut keys = Vec::new();
    for element in body.named_children(&mut body.walk()) {
        if element.go_kind() != "keyed_element" {
            return None;
        }
        let key = element.named_child(0)?;
        keys.push(node_text(key, text).trim().to_string());
    }
    Some(keys)
}

fn selector_chain(node: Node<'_>, text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut node = node;
    for _ in 0..32 {
        match node.go_kind() {
            "selector_expression" => {
                out.push(node_text(node.go_field("field")?, text).to_string());
                node = node.go_field("operand")?;
            }
            "identifier" => {
                out.push(node_text(node, text).to_string());
                out.reverse();
                return Some(out);
            }
            _ => {
                out.push("?".to_string());
                out.reverse();
                return Some(out);
            }
        }
    }
    None
}

/// Is `node` a name being declared (`type X ..`, `type X = ..`, a type parameter), or a selector
/// that is another selector's operand (only the outermost selector of a chain is looked at:
/// `m.Spec.InfrastructureRef.Name` reads a name)? Decided from its parent.
fn passed_over(node: Node<'_>, parent: Option<Node<'_>>) -> bool {
    let Some(parent) = parent else { return false };
    let is_field = |field: &'static str| parent.go_field(field) == Some(node);
    match parent.go_kind() {
        "type_spec" | "type_parameter_declaration" => is_field("name"),
        "type_alias" => parent.go_field("type").is_some() && is_field("name"),
        "selector_expression" => node.go_kind() == "selector_expression" && is_field("operand"),
        _ => false,
    }
}

/// The flow facts of one top-level declaration, built node by node during the declaration's
/// walk (preorder). Function indices are those of the declaration's own functions, and every
/// [`TypeRef`] holds its package qualifier *as written* in `import` (`capz` for
/// `capz.AzureMachine`) until [`FlowFacts::resolve_imports`] turns it into the import path,
/// once the file's imports are known.
#[derive(Default)]
pub(crate) struct FlowWalk {
    out: FlowFacts,
}

impl FlowWalk {
    /// Looks at `node`, whose parent is `parent`; `facts` are the declaration's facts so far
    /// (every function starting at or before `node`, `node` itself included).
    pub(crate) fn visit(&mut self, node: Node<'_>, parent: Option<Node<'_>>, text: &str, facts: &GoFacts) {
        let out = &mut self.out;
        let function_at = |node: Node<'_>| facts.function_at(node.start_byte() as u32);
        match node.go_kind() {
            "type_alias" => {
                let (Some(name), Some(ty)) = (node.go_field("name"), node.go_field("type")) else {
                    return;
                };
                if let Some(target) = base_type(ty, text) {
                    out.type_aliases.push(TypeAlias {
                        name: node_text(name, text).to_string(),
                        target,
                        written: node_text(ty, text).chars().take(120).collect(),
                        span: Span::new(node.start_byte(), node.end_byte()),
                    });
                }
            }
            "type_identifier" => {
                let name = node_text(node, text);
                if super::GO_BUILTIN_TYPES.contains(&name) || passed_over(node, parent) {
                    return;
                }
                out.type_uses.push(TypeUse {
                    name: name.to_string(),
                    span: Span::new(node.start_byte(), node.end_byte()),
                    function: function_at(node),
                });
            }
            "function_declaration" | "method_declaration" | "func_literal" => {
                let Some(result) = node.go_field("result") else {
                    return;
                };
                let Some(index) = function_at(node) else {
                    return;
                };
                let types: Vec<TypeRef> = if result.go_kind() == "parameter_list" {
                    result
                        .named_children(&mut result.walk())
                        .filter_map(|p| p.go_field("type"))
                        .filter_map(|t| base_type(t, text))
                        .collect()
                } else {
                    base_type(result, text).into_iter().collect()
                };
                if !types.is_empty() {
                    out.results.push((index, types));
                }
            }
            "var_spec" => {
                let (Some(function), Some(ty)) = (function_at(node), node.go_field("type")) else {
                    return;
                };
                let Some(ty) = base_type(ty, text) else { return };
                let mut cursor = node.walk();
                for name in node.children_by_field_name("name", &mut cursor) {
                    out.var_types
                        .push((function, node_text(name, text).to_string(), ty.clone()));
                }
            }
            "short_var_declaration" => {
                let (Some(function), Some(left), Some(right)) =
                    (function_at(node), node.go_field("left"), node.go_field("right"))
                else {
                    return;
                };
                let names: Vec<Node<'_>> = left.named_children(&mut left.walk()).collect();
                let values: Vec<Node<'_>> = right.named_children(&mut right.walk()).collect();
                if names.len() != values.len() {
                    return;
                }
                for (name, value) in names.iter().zip(&values) {
                    if name.go_kind() != "identifier" {
                        continue;
                    }
                    if let Some(ty) = literal_type(*value, text) {
                        out.var_types.push((function, node_text(*name, text).to_string(), ty));
                        if let Some(keys) = literal_keys(*value, text) {
                            out.var_fields
                                .push((function, node_text(*name, text).to_string(), keys));
                        }
                    }
                }
            }
            "selector_expression" => {
                if passed_over(node, parent) {
                    return;
                }
                let Some(field) = node.go_field("field") else {
                    return;
                };
                if !node_text(field, text).ends_with("Ref") {
                    return;
                }
                if let Some(chain) = selector_chain(node, text) {
                    out.ref_fields.push(RefField {
                        chain,
                        span: Span::new(node.start_byte(), node.end_byte()),
                    });
                }
            }
            _ => {}
        }
    }

    pub(crate) fn finish(self) -> FlowFacts {
        let mut out = self.out;
        // Sorted for the binary searches of `var_type` and `var_fields_of` (a file's facts are
        // its declarations' in order, with function indices growing: still sorted).
        out.var_types.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out.var_fields.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        out
    }
}

impl FlowFacts {
    /// Turns every type's qualifier as written into its import path (`None` when no import of
    /// the file has that name), by `path_of`.
    pub(crate) fn resolve_imports(&mut self, path_of: &impl Fn(&str) -> Option<String>) {
        let mut resolve = |ty: &mut TypeRef| ty.import = ty.import.as_deref().and_then(path_of);
        for alias in &mut self.type_aliases {
            resolve(&mut alias.target);
        }
        for (_, types) in &mut self.results {
            types.iter_mut().for_each(&mut resolve);
        }
        for (_, _, ty) in &mut self.var_types {
            resolve(ty);
        }
    }

    /// Appends `other` (already placed and resolved).
    pub(crate) fn append(&mut self, other: FlowFacts) {
        let FlowFacts {
            type_aliases,
            type_uses,
            results,
            var_types,
            ref_fields,
            var_fields,
        } = other;
        self.type_aliases.extend(type_aliases);
        self.type_uses.extend(type_uses);
        self.results.extend(results);
        self.var_types.extend(var_types);
        self.ref_fields.extend(ref_fields);
        self.var_fields.extend(var_fields);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(src: &str) -> (GoFacts, FlowFacts) {
        let parsed = crate::syntax::parse(crate::syntax::Lang::Go, src, None);
        let facts = crate::facts::go::extract(parsed.tree.as_ref().unwrap(), src);
        let flow = facts.flow.clone();
        (facts, flow)
    }

    #[test]
    fn aliases_results_vars_and_refs() {
        let src = r#"package p
import capz "sigs.k8s.io/cluster-api-provider-azure/api/v1beta1"
type AM = capz.AzureMachine
type local struct{}
func list() ([]*capz.AzureMachine, error) { return nil, nil }
func use(m Machine) {
	var x AM
	y := &capz.AzureMachineList{ListMeta: metav1.ListMeta{}}
	_ = get(m.Spec.InfrastructureRef.Name, &m.Spec.InfrastructureRef)
	_, _ = x, y
}
"#;
        let (facts, flow) = flow(src);
        assert_eq!(flow.type_aliases.len(), 1);
        assert_eq!(flow.type_aliases[0].name, "AM");
        assert_eq!(flow.type_aliases[0].target.name, "AzureMachine");
        assert_eq!(
            flow.type_aliases[0].target.import.as_deref(),
            Some("sigs.k8s.io/cluster-api-provider-azure/api/v1beta1")
        );
        let list = facts
            .functions
            .iter()
            .position(|f| f.name.as_deref() == Some("list"))
            .unwrap() as u32;
        let results: Vec<&str> = flow.results_of(list).iter().map(|t| t.name.as_str()).collect();
        assert_eq!(results, ["AzureMachine", "error"]);
        let uses: Vec<&str> = flow.type_uses.iter().map(|u| u.name.as_str()).collect();
        assert!(uses.contains(&"AM") && uses.contains(&"Machine") && !uses.contains(&"local"));
        let usef = facts
            .functions
            .iter()
            .position(|f| f.name.as_deref() == Some("use"))
            .map(|i| i as u32);
        assert_eq!(flow.var_type(&facts, usef, "x").map(|t| t.name.as_str()), Some("AM"));
        assert_eq!(
            flow.var_type(&facts, usef, "y").map(|t| t.name.as_str()),
            Some("AzureMachineList")
        );
        assert_eq!(
            flow.var_type(&facts, usef, "m").map(|t| t.name.as_str()),
            Some("Machine")
        );
        let refs: Vec<String> = flow.ref_fields.iter().map(|r| r.chain.join(".")).collect();
        assert_eq!(refs, ["m.Spec.InfrastructureRef"]);
        assert_eq!(flow.var_fields.len(), 1);
        assert_eq!(flow.var_fields[0].1, "y");
        assert_eq!(flow.var_fields[0].2, ["ListMeta"]);
    }
}
