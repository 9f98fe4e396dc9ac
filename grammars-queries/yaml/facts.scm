; YAML facts. The document/key/value arena is built by walking the tree with a cursor
; (server/src/facts/yaml.rs); this query finds what can sit anywhere in a stream:
; comments (for `# invariant:ignore` suppressions) and syntax errors.

(comment) @comment

(ERROR) @error
