//! Go modules: what a `go.mod` says (the module path and its `replace` directives to local
//! directories), and how an import path resolves to a package directory of the workspace the
//! way the Go toolchain would: the importing module's own packages, a `replace` to a local
//! directory, then the module's `vendor/` directory when its files are loaded.

use std::collections::HashSet;

/// One module of the workspace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GoModule {
    /// Workspace-relative directory of the `go.mod` (`""` for the root).
    pub dir: String,
    /// The `module` line.
    pub path: String,
    /// `replace` directives to local directories: module path → workspace-relative directory.
    pub replaces: Vec<(String, String)>,
}

/// Parses a `go.mod` found in `dir` (workspace-relative). `None` without a `module` line.
pub fn parse(dir: &str, text: &str) -> Option<GoModule> {
    let mut module = None;
    let mut replaces = Vec::new();
    let mut in_replace_block = false;
    for raw in text.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if in_replace_block {
            if line == ")" {
                in_replace_block = false;
            } else if let Some(r) = replace_target(dir, line) {
                replaces.push(r);
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("module ") {
            module = Some(rest.trim().trim_matches('"').to_string());
        } else if let Some(rest) = line.strip_prefix("replace") {
            let rest = rest.trim();
            if rest == "(" {
                in_replace_block = true;
            } else if let Some(r) = replace_target(dir, rest) {
                replaces.push(r);
            }
        }
    }
    Some(GoModule {
        dir: dir.to_string(),
        path: module?,
        replaces,
    })
}

/// `old [version] => ./local` → (old, workspace-relative dir); `None` for a module replacement.
fn replace_target(dir: &str, spec: &str) -> Option<(String, String)> {
    let (old, new) = spec.split_once("=>")?;
    let old = old.split_whitespace().next()?.trim_matches('"').to_string();
    let new = new.split_whitespace().next()?.trim_matches('"');
    if !(new.starts_with("./") || new.starts_with("../") || new == "." || new == "..") {
        return None;
    }
    Some((old, join(dir, new)?))
}

/// `dir` joined with a relative path, normalised; `None` when it climbs out of the workspace.
pub fn join(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// The modules of a workspace and its package directories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleIndex {
    /// Deepest directory first, so the first module containing a directory is its own.
    modules: Vec<GoModule>,
    packages: HashSet<String>,
}

fn within(dir: &str, root: &str) -> Option<String> {
    if root.is_empty() {
        return Some(dir.to_string());
    }
    if dir == root {
        return Some(String::new());
    }
    dir.strip_prefix(root)?.strip_prefix('/').map(str::to_string)
}

fn under_path(import: &str, module: &str) -> Option<String> {
    if import == module {
        return Some(String::new());
    }
    import.strip_prefix(module)?.strip_prefix('/').map(str::to_string)
}

impl ModuleIndex {
    pub fn new(modules: &[GoModule], packages: impl IntoIterator<Item = String>) -> ModuleIndex {
        let mut modules = modules.to_vec();
        modules.sort_by_key(|m| std::cmp::Reverse(m.dir.matches('/').count() + usize::from(!m.dir.is_empty())));
        ModuleIndex {
            modules,
            packages: packages.into_iter().collect(),
        }
    }

    /// The module a package directory belongs to.
    pub fn module_of(&self, dir: &str) -> Option<&GoModule> {
        self.modules.iter().find(|m| within(dir, &m.dir).is_some())
    }

    /// The import path of the package in `dir`.
    pub fn import_path_of(&self, dir: &str) -> Option<String> {
        let module = self.module_of(dir)?;
        let rest = within(dir, &module.dir)?;
        Some(if rest.is_empty() {
            module.path.clone()
        } else {
            format!("{}/{rest}", module.path)
        })
    }

    /// The workspace directory of the package `import` as seen from the package in `from`.
    pub fn resolve(&self, from: &str, import: &str) -> Option<String> {
        let module = self.module_of(from)?;
        let joined = |base: &str, rest: &str| match (base.is_empty(), rest.is_empty()) {
            (_, true) => base.to_string(),
            (true, false) => rest.to_string(),
            (false, false) => format!("{base}/{rest}"),
        };
        let known = |dir: &String| dir != from && self.packages.contains(dir);
        // The module's own packages (a nested module's directory is not part of this module).
        let own = under_path(import, &module.path)
            .map(|rest| joined(&module.dir, &rest))
            .filter(|dir| self.module_of(dir) == Some(module) && known(dir));
        // A `replace` to a local directory (several modules in one repository).
        let replaced = || {
            module
                .replaces
                .iter()
                .filter_map(|(old, dir)| under_path(import, old).map(|rest| joined(dir, &rest)))
                .find(|dir| known(dir))
        };
        // The module's vendor directory, when its files are loaded.
        let vendored = || Some(joined(&joined(&module.dir, "vendor"), import)).filter(|dir| known(dir));
        own.or_else(replaced).or_else(vendored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_MOD: &str = "module github.com/openshift/hypershift\n\ngo 1.26.3\n\nrequire (\n\tgithub.com/openshift/hypershift/api v0.0.0\n)\n\nreplace github.com/openshift/hypershift/api => ./api\n\nreplace (\n\tsigs.k8s.io/karpenter => github.com/openshift/kubernetes-sigs-karpenter v0.0.0-1\n\texample.com/tools v1.0.0 => ../tools // local\n)\n";

    #[test]
    fn parses_module_and_local_replaces_only() {
        let m = parse("", GO_MOD).unwrap();
        assert_eq!(m.path, "github.com/openshift/hypershift");
        assert_eq!(
            m.replaces,
            vec![("github.com/openshift/hypershift/api".to_string(), "api".to_string())]
        );
        let nested = parse("a/b", GO_MOD).unwrap();
        assert_eq!(
            nested.replaces,
            vec![
                ("github.com/openshift/hypershift/api".to_string(), "a/b/api".to_string()),
                ("example.com/tools".to_string(), "a/tools".to_string()),
            ]
        );
        assert!(parse("", "go 1.22\n").is_none());
    }

    #[test]
    fn resolves_own_packages_replaces_and_vendor() {
        let root = parse("", GO_MOD).unwrap();
        let api = parse("api", "module github.com/openshift/hypershift/api\n").unwrap();
        let tool = parse("contrib/tool", "module github.com/openshift/hypershift/contrib/tool\n").unwrap();
        let packages = [
            "support/certs",
            "api/hypershift/v1beta1",
            "vendor/k8s.io/utils/ptr",
            "cpo/v2/kas",
            "contrib/tool/envx",
        ];
        let index = ModuleIndex::new(&[root, api, tool], packages.iter().map(|s| s.to_string()));
        // A nested module without a `replace` is not the root module's package: Go would take
        // it from the module cache (or vendor/), not from this directory.
        assert_eq!(
            index.resolve("cpo/v2/kas", "github.com/openshift/hypershift/contrib/tool/envx"),
            None
        );
        assert_eq!(
            index
                .resolve("cpo/v2/kas", "github.com/openshift/hypershift/support/certs")
                .as_deref(),
            Some("support/certs")
        );
        // The api module is its own module, reached through the root's `replace`.
        assert_eq!(
            index
                .resolve("cpo/v2/kas", "github.com/openshift/hypershift/api/hypershift/v1beta1")
                .as_deref(),
            Some("api/hypershift/v1beta1")
        );
        assert_eq!(
            index.resolve("cpo/v2/kas", "k8s.io/utils/ptr").as_deref(),
            Some("vendor/k8s.io/utils/ptr")
        );
        assert_eq!(index.resolve("cpo/v2/kas", "k8s.io/api/core/v1"), None);
        // From inside the api module, the root module's packages are not its own.
        assert_eq!(
            index.resolve(
                "api/hypershift/v1beta1",
                "github.com/openshift/hypershift/support/certs"
            ),
            None
        );
        assert_eq!(
            index.import_path_of("api/hypershift/v1beta1").as_deref(),
            Some("github.com/openshift/hypershift/api/hypershift/v1beta1")
        );
    }
}
