; Unqualified type names and composite-literal types. Only run on files with dot imports, where
; an unqualified name may come from the dot-imported package.
(type_identifier) @type
