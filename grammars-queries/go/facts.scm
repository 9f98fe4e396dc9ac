; Go facts. Each pattern's outermost capture names the fact kind; the Rust extractor
; (server/src/facts/go.rs) reads the named sub-captures and nothing else.

(package_clause (package_identifier) @package.name)

(import_spec
  name: (_)? @import.alias
  path: (_) @import.path) @import

(function_declaration
  name: (identifier) @func.name
  parameters: (parameter_list) @func.params) @func

(method_declaration
  receiver: (parameter_list) @func.receiver
  name: (field_identifier) @func.name
  parameters: (parameter_list) @func.params) @func

(func_literal
  parameters: (parameter_list) @func.params) @func

(call_expression
  function: (_) @call.callee
  arguments: (argument_list) @call.args) @call

(qualified_type
  package: (package_identifier) @qualified.package
  name: (type_identifier) @qualified.name) @qualified

(selector_expression
  operand: (identifier) @member.package
  field: (field_identifier) @member.name) @member

(composite_literal
  type: (_) @literal.type
  body: (literal_value) @literal.body) @literal

(const_spec
  name: (identifier) @const.name
  type: (_)? @const.type
  value: (expression_list)? @const.value) @const

(source_file
  (var_declaration
    [(var_spec name: (identifier) @global.name)
     (var_spec_list (var_spec name: (identifier) @global.name))]))

(assignment_statement
  left: (expression_list) @assign.left
  right: (expression_list) @assign.right) @assign

(inc_statement (_) @assign.left) @assign
(dec_statement (_) @assign.left) @assign

(short_var_declaration
  left: (expression_list) @local.names
  right: (expression_list) @local.values) @local

(var_spec name: (identifier) @local.names) @local

(range_clause left: (expression_list) @local.names) @local

(for_statement body: (block) @loop.body) @loop

(comment) @comment
