//! The layering the code keeps, checked on its source: no module imports a module that imports
//! it back (directly or through others), and no file of the bot's Matrix layer or of the bridge
//! grows past 500 lines.
//!
//! A module "imports" another when it names it or an item of it: in a `use`, in a path in code,
//! or in a macro's arguments. Declaring a child (`mod x;`) is not an import; naming the child's
//! items from the parent is, so a parent that calls into its children cannot also be where they
//! get their shared types.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// A module by its path from the crate root (empty for the root).
type ModulePath = Vec<String>;

/// One crate's modules: each module's file and what it imports.
#[derive(Debug, Default)]
struct Crate {
    files: BTreeMap<ModulePath, PathBuf>,
    imports: BTreeMap<ModulePath, BTreeSet<ModulePath>>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace holds the tests crate")
        .to_owned()
}

/// The modules of the crate whose root is `root` (a `lib.rs`), with the files they live in.
fn modules(root: &Path) -> BTreeMap<ModulePath, (PathBuf, syn::File)> {
    let mut found = BTreeMap::new();
    let mut queue = vec![(ModulePath::new(), root.to_owned())];
    while let Some((path, file)) = queue.pop() {
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        let parsed = syn::parse_file(&text)
            .unwrap_or_else(|error| panic!("{} does not parse: {error}", file.display()));
        // A module's children live beside `lib.rs`/`mod.rs`, or in a directory named after it.
        let dir = match file.file_name().and_then(|name| name.to_str()) {
            Some("lib.rs" | "mod.rs") => file.parent().expect("a directory").to_owned(),
            _ => file.with_extension(""),
        };
        for item in &parsed.items {
            let syn::Item::Mod(module) = item else {
                continue;
            };
            if module.content.is_some() {
                continue;
            }
            let name = module.ident.to_string();
            let flat = dir.join(format!("{name}.rs"));
            let nested = dir.join(&name).join("mod.rs");
            let child = if flat.exists() { flat } else { nested };
            let mut child_path = path.clone();
            child_path.push(name);
            queue.push((child_path, child));
        }
        found.insert(path, (file, parsed));
    }
    found
}

/// Collects the paths a file names that may lead to another module of its crate.
#[derive(Default)]
struct Paths {
    paths: Vec<Vec<String>>,
    /// How deep in inline modules (`mod x { … }`) the visit is.
    inline: usize,
}

impl Paths {
    /// Records `path` as the file's module names it: inside an inline module, `super` first
    /// leads back to the file's module.
    fn push(&mut self, mut path: Vec<String>) {
        let mut depth = self.inline;
        while depth > 0 && path.first().map(String::as_str) == Some("super") {
            path.remove(0);
            depth -= 1;
        }
        if depth < self.inline && path.first().map(String::as_str) != Some("super") {
            path.insert(0, "self".to_owned());
        }
        self.paths.push(path);
    }

    fn use_tree(&mut self, prefix: &[String], tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                let mut prefix = prefix.to_vec();
                prefix.push(path.ident.to_string());
                self.use_tree(&prefix, &path.tree);
            }
            syn::UseTree::Name(name) => {
                let mut path = prefix.to_vec();
                path.push(name.ident.to_string());
                self.push(path);
            }
            syn::UseTree::Rename(rename) => {
                let mut path = prefix.to_vec();
                path.push(rename.ident.to_string());
                self.push(path);
            }
            syn::UseTree::Glob(_) => self.push(prefix.to_vec()),
            syn::UseTree::Group(group) => {
                for tree in &group.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }

    /// Paths inside a macro's arguments: `a::b::c` sequences of tokens.
    fn tokens(&mut self, tokens: TokenStream) {
        let mut current: Vec<String> = Vec::new();
        let mut colons = 0;
        for token in tokens {
            match token {
                TokenTree::Ident(ident) if current.is_empty() || colons == 2 => {
                    current.push(ident.to_string());
                    colons = 0;
                }
                TokenTree::Punct(punct) if punct.as_char() == ':' && !current.is_empty() => {
                    colons += 1;
                }
                TokenTree::Group(group) => {
                    self.flush(&mut current);
                    colons = 0;
                    self.tokens(group.stream());
                }
                TokenTree::Ident(ident) => {
                    self.flush(&mut current);
                    current.push(ident.to_string());
                    colons = 0;
                }
                _ => {
                    self.flush(&mut current);
                    colons = 0;
                }
            }
        }
        self.flush(&mut current);
    }

    fn flush(&mut self, current: &mut Vec<String>) {
        if current.len() > 1 {
            let path = std::mem::take(current);
            self.push(path);
        }
        current.clear();
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&[], &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.push(
            path.segments
                .iter()
                .map(|segment| segment.ident.to_string())
                .collect(),
        );
        syn::visit::visit_path(self, path);
    }

    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {
        // `pub(super)` names who may see an item, not what the module uses.
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.tokens(mac.tokens.clone());
    }

    fn visit_item_mod(&mut self, module: &'ast syn::ItemMod) {
        // Inline test modules import their parent (`use super::*`): that is the file itself.
        let test = module.attrs.iter().any(|attr| {
            attr.path().is_ident("cfg")
                && attr
                    .parse_args::<syn::Ident>()
                    .is_ok_and(|ident| ident == "test")
        });
        if !test {
            self.inline += usize::from(module.content.is_some());
            syn::visit::visit_item_mod(self, module);
            self.inline -= usize::from(module.content.is_some());
        }
    }
}

/// The module of the crate that `path`, named in module `from`, leads to, if any.
fn resolve(known: &BTreeSet<ModulePath>, from: &ModulePath, path: &[String]) -> Option<ModulePath> {
    let (mut base, mut rest) = (from.clone(), path);
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // A bare path leads into the crate only through a child module.
            let mut child = from.clone();
            child.push(first.to_owned());
            if !known.contains(&child) {
                return None;
            }
        }
        None => return None,
    }
    let mut target = base;
    for segment in rest {
        let mut next = target.clone();
        next.push(segment.clone());
        if !known.contains(&next) {
            break;
        }
        target = next;
    }
    Some(target)
}

fn read_crate(root: &Path) -> Crate {
    let modules = modules(root);
    let known: BTreeSet<ModulePath> = modules.keys().cloned().collect();
    let mut krate = Crate::default();
    for (path, (file, parsed)) in modules {
        let mut paths = Paths::default();
        paths.visit_file(&parsed);
        let imports = paths
            .paths
            .iter()
            .filter_map(|named| resolve(&known, &path, named))
            .filter(|target| *target != path)
            .collect();
        krate.imports.insert(path.clone(), imports);
        krate.files.insert(path, file);
    }
    krate
}

/// Every cycle of imports, each as the modules around it (one per strongly connected part).
fn cycles(krate: &Crate) -> Vec<Vec<ModulePath>> {
    let reaches = |from: &ModulePath| -> BTreeSet<ModulePath> {
        let mut seen = BTreeSet::new();
        let mut queue: Vec<ModulePath> = krate.imports[from].iter().cloned().collect();
        while let Some(next) = queue.pop() {
            if seen.insert(next.clone()) {
                queue.extend(krate.imports.get(&next).into_iter().flatten().cloned());
            }
        }
        seen
    };
    let reach: BTreeMap<&ModulePath, BTreeSet<ModulePath>> = krate
        .imports
        .keys()
        .map(|module| (module, reaches(module)))
        .collect();
    let mut parts: Vec<Vec<ModulePath>> = Vec::new();
    for (module, reached) in &reach {
        if !reached.contains(*module) || parts.iter().any(|part| part.contains(module)) {
            continue;
        }
        let part = reach
            .iter()
            .filter(|(other, other_reached)| {
                reached.contains(**other) && other_reached.contains(*module)
            })
            .map(|(other, _)| (*other).clone())
            .collect();
        parts.push(part);
    }
    parts
}

/// The shortest way from `start` through its imports back to `start`, within one cycle.
fn shortest_cycle(krate: &Crate, start: &ModulePath) -> Vec<ModulePath> {
    let mut came_from: BTreeMap<ModulePath, ModulePath> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.clone()]);
    while let Some(at) = queue.pop_front() {
        for next in krate.imports.get(&at).into_iter().flatten() {
            if next == start {
                let mut path = vec![at.clone()];
                while let Some(before) = came_from.get(path.last().expect("a step")) {
                    path.push(before.clone());
                }
                path.reverse();
                path.push(start.clone());
                return path;
            }
            if !came_from.contains_key(next) && next != start {
                came_from.insert(next.clone(), at.clone());
                queue.push_back(next.clone());
            }
        }
    }
    vec![start.clone()]
}

fn name(krate: &str, module: &ModulePath) -> String {
    std::iter::once(krate.to_owned())
        .chain(module.iter().cloned())
        .collect::<Vec<_>>()
        .join("::")
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut found = Vec::new();
    for (krate, root) in [
        ("brigade_core", "core/src/lib.rs"),
        ("brigade_bot", "bot/src/lib.rs"),
        ("brigade_bridge", "bridge/src/lib.rs"),
        ("brigade_tests", "tests/src/lib.rs"),
    ] {
        let read = read_crate(&workspace().join(root));
        if krate == "brigade_bot" {
            let dispatch = vec!["matrix".to_owned(), "dispatch".to_owned()];
            let change = vec!["matrix".to_owned(), "change".to_owned()];
            assert!(
                read.imports
                    .get(&dispatch)
                    .is_some_and(|to| to.contains(&change)),
                "the check sees imports: matrix::dispatch uses matrix::change"
            );
        }
        if let Ok(module) = std::env::var("LAYERING_DEBUG") {
            for (from, to) in &read.imports {
                if name(krate, from) == module {
                    eprintln!("{module} imports {:?}", to);
                }
            }
        }
        assert!(read.files.len() > 3, "{krate}: its modules were found");
        for cycle in cycles(&read) {
            let names: Vec<String> = cycle.iter().map(|module| name(krate, module)).collect();
            let around: Vec<String> = shortest_cycle(&read, &cycle[0])
                .iter()
                .map(|module| name(krate, module))
                .collect();
            found.push(format!(
                "{}\n  for example: {}",
                names.join(", "),
                around.join(" -> ")
            ));
        }
    }
    assert!(
        found.is_empty(),
        "modules that import each other:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_cycle_check_finds_a_parent_and_child_that_import_each_other() {
    let known: BTreeSet<ModulePath> = [
        vec![],
        vec!["a".to_owned()],
        vec!["a".to_owned(), "b".to_owned()],
    ]
    .into_iter()
    .collect();
    let a = vec!["a".to_owned()];
    let b = vec!["a".to_owned(), "b".to_owned()];
    let words = |text: &str| text.split("::").map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(resolve(&known, &b, &words("super::Bot")), Some(a.clone()));
    assert_eq!(resolve(&known, &a, &words("b::run")), Some(b.clone()));
    assert_eq!(
        resolve(&known, &b, &words("crate::a::b::X")),
        Some(b.clone())
    );
    assert_eq!(resolve(&known, &a, &words("serde::Serialize")), None);
    let mut krate = Crate::default();
    krate.imports.insert(vec![], BTreeSet::new());
    krate.imports.insert(a.clone(), [b.clone()].into());
    krate.imports.insert(b.clone(), [a.clone()].into());
    assert_eq!(cycles(&krate), vec![vec![a, b]]);
}

#[test]
fn no_file_of_the_matrix_layer_or_the_bridge_is_over_500_lines() {
    let mut long = Vec::new();
    for dir in ["bot/src/matrix", "bridge/src"] {
        let mut queue = vec![workspace().join(dir)];
        while let Some(dir) = queue.pop() {
            for entry in std::fs::read_dir(&dir).expect("a readable directory") {
                let path = entry.expect("an entry").path();
                if path.is_dir() {
                    queue.push(path);
                } else if path.extension().is_some_and(|ext| ext == "rs") {
                    let lines = std::fs::read_to_string(&path)
                        .expect("a readable file")
                        .lines()
                        .count();
                    if lines > 500 {
                        long.push(format!("{}: {lines} lines", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over 500 lines:\n{}",
        long.join("\n")
    );
}
