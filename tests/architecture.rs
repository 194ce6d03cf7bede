//! Guards the one-way layering of src/: which crate modules each top-level
//! module may import (`MODULES`), and which files may use which third-party
//! crates (`CRATES`), so that clap, the terminal, SMTP and `SQLite` stay where
//! they belong and data keeps flowing one way.
//!
//! Every `src/**/*.rs` is parsed with syn, so comments, doc comments and
//! strings never count; `use` trees, paths in code and types, macro paths,
//! derive lists and macro bodies that parse as expressions do. Code under
//! `#[cfg(test)]` and a module's `tests.rs` are skipped: tests may use anything.
//!
//! To update: when a module moves or a new one appears, edit `MODULES` (a new
//! top-level module fails the test until it has a row); when a crate gains or
//! changes its home, edit `CRATES`. The tables describe the layout we want, so
//! a failure lists real violations, one `file:line` each.
//!
//! Known limit: a name imported from our own code that is also a listed crate's
//! name (`use crate::feed::rss; rss::f()`) reads as the crate; import it renamed.

use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, Expr, Ident, Item, ItemMod, ItemUse, Macro, Token, UseTree};

/// Modules that import only `error`; `"leaves"` in an allow-list stands for them all.
const LEAVES: &[&str] = &["permalink_style", "address", "text"];

/// Each top-level module of src/lib.rs and the crate modules it may import
/// besides itself; anything not listed is forbidden. `"*"` allows everything.
/// src/lib.rs and src/main.rs wire the modules together and are not restricted.
#[rustfmt::skip] // one row a module, however long
const MODULES: &[(&str, &[&str])] = &[
    ("commands", &["*"]),
    ("config", &["error", "leaves"]),
    ("error", &[]),
    ("permalink_style", &["error"]),
    ("address", &["error"]),
    ("text", &[]),
    ("posts_folder", &["config", "error", "post", "leaves"]),
    ("subscribers", &["config", "error", "leaves"]),
    ("post", &["config", "error", "leaves"]),
    ("feed", &["config", "error", "post", "leaves"]),
    ("email", &["config", "error", "post", "leaves"]),
    ("output", &["error"]),
    ("token", &["error"]),
    ("serve", &["config", "error", "mail", "token", "leaves"]),
    ("inbox", &["config", "error", "mail", "token", "leaves"]),
    ("mail", &["config", "error", "post", "email", "output", "posts_folder", "subscribers", "token", "leaves"]),
    ("web_client", &["error"]),
];

/// Third-party crates (as named in code) and the only places that may use them:
/// a place ending in `.rs` is that file, any other a module's file or folder
/// (`src/config` is src/config.rs or src/config/). Crates not listed are unrestricted.
#[rustfmt::skip] // one row a home, however long
const CRATES: &[(&[&str], &[&str])] = &[
    (&["clap"], &["src/commands/cli.rs", "src/commands/manual.rs", "src/main.rs"]),
    (&["clap_complete"], &["src/commands/cli.rs"]),
    (&["clap_mangen", "roff"], &["src/commands/manual.rs"]),
    (&["indicatif"], &["src/commands/report.rs"]),
    (&["toml"], &["src/config"]),
    (&["pulldown_cmark", "ammonia"], &["src/post/markdown"]),
    (&["liquid_core", "liquid_lib"], &["src/post/liquid"]),
    // Jekyll's YAML: front matter, and the blog's _config.yml.
    (&["serde_saphyr"], &["src/post/front_matter.rs", "src/config/jekyll.rs"]),
    (&["rss"], &["src/feed/rss.rs"]),
    (&["atom_syndication", "chrono"], &["src/feed/atom.rs"]),
    // JSON Feed, and the `--json` results the terminal prints.
    (&["serde_json"], &["src/feed/json.rs", "src/commands/report.rs"]),
    (&["tera", "css_inline", "html2text"], &["src/email"]),
    (&["lettre"], &["src/mail/message.rs", "src/mail/transport.rs", "src/address.rs"]),
    (&["email_encoding"], &["src/mail/message.rs"]),
    (&["mail_auth"], &["src/mail/dkim.rs"]),
    (&["ring", "rustls_pki_types", "spki"], &["src/config/dkim.rs"]),
    // base64: the DKIM key's DNS record, the list's tokens (base64url), and
    // the login forms of the password that transport.rs blanks out of a reply.
    (&["base64"], &["src/config/dkim.rs", "src/token.rs", "src/mail/transport.rs"]),
    (&["tokio"], &["src/mail/transport.rs", "src/serve", "src/inbox/imap.rs"]),
    (&["async_imap", "futures_util", "tokio_rustls", "rustls_native_certs"], &["src/inbox/imap.rs"]),
    (&["rustls", "fastrand"], &["src/mail/transport.rs"]),
    (&["axum"], &["src/serve"]),
    (&["mail_parser"], &["src/inbox/read.rs"]),
    (&["rusqlite"], &["src/mail/state"]),
    (&["csv"], &["src/subscribers.rs"]),
    // NFKC: addresses, and URLs as Jekyll's absolute_url (Addressable) folds them.
    (&["unicode_normalization"], &["src/address.rs", "src/post/permalink.rs"]),
    (&["hmac", "getrandom"], &["src/token.rs"]),
    // HTTP out: the WebSub hub's ping and `mail --wait-live`'s fetch.
    (&["ureq"], &["src/web_client.rs"]),
];

#[test]
fn src_follows_the_module_and_crate_tables() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // A crate misspelt in CRATES, or since dropped, would never match: say so.
    let manifest = fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let manifest: toml::Table = manifest.parse().unwrap();
    let deps = manifest["dependencies"].as_table().unwrap();
    let deps: Vec<_> = deps.keys().map(|d| d.replace('-', "_")).collect();
    let crates = CRATES.iter().flat_map(|(crates, _)| *crates);
    let stale: Vec<_> = crates.filter(|c| !deps.contains(&c.to_string())).collect();
    assert!(stale.is_empty(), "CRATES names non-dependencies: {stale:?}");
    let found = violations(&root.join("src"));
    let report = format!("{} violations:\n{}", found.len(), found.join("\n"));
    assert!(found.is_empty(), "{report}");
}

/// A small tree for the checker itself; each `== path` line starts a file.
const FIXTURE: &str = r#"== lib.rs
pub mod check;
== check.rs
== error.rs
pub fn f() { println!("{}", crate::config::NAME); }
== config.rs
use crate::error::Error;
/// crate::feed in a comment
const S: &str = "crate::feed";
#[cfg(test)]
mod tests { use crate::post::Post; }
== post/mod.rs
mod front_matter;
use super::config;
pub fn f() { lettre::Address::new(); front_matter::g(); }
== post/front_matter.rs
use serde_saphyr::from_str;
use super::super::feed::Feed;
== post/tests.rs
use crate::feed::Feed;
"#;

#[test]
fn the_checker_reports_forbidden_imports_only() {
    let src = tempfile::tempdir().unwrap();
    for file in FIXTURE.split("== ").skip(1) {
        let (path, text) = file.split_once('\n').unwrap();
        let path = src.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    let post = "(allowed: config, error, permalink_style, address, text)";
    let lettre = "src/mail/message.rs, src/mail/transport.rs, src/address.rs";
    assert_eq!(
        violations(src.path()),
        [
            "src/check.rs:1: module `check` is not in MODULES; give it a row".to_string(),
            "src/error.rs:1: module `error` imports `crate::config` (allowed: none)".to_string(),
            format!("src/post/front_matter.rs:2: module `post` imports `crate::feed` {post}"),
            format!("src/post/mod.rs:3: crate `lettre` used outside {lettre}"),
        ]
    );
}

/// Every violation in the `src` tree, as `src/file:line: problem`, by file and line.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = BTreeSet::new();
    for file in files {
        let rel = format!("src/{}", file.strip_prefix(src).unwrap().display());
        if rel.ends_with("/tests.rs") {
            continue;
        }
        let module = module_path(&rel);
        if let Some(top) = module.first().filter(|top| allowed_modules(top).is_none()) {
            let problem = format!("module `{top}` is not in MODULES; give it a row");
            found.insert((rel.clone(), 1, problem));
        }
        let text = fs::read_to_string(&file).unwrap();
        let ast = syn::parse_file(&text).unwrap_or_else(|err| panic!("{rel}: {err}"));
        let mut uses = Uses {
            rel: &rel,
            module,
            mods: HashSet::new(),
            found: &mut found,
        };
        uses.visit_file(&ast);
    }
    let line = |(file, line, problem): (String, usize, String)| format!("{file}:{line}: {problem}");
    found.into_iter().map(line).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// src/a/b.rs is `a::b`, src/a/mod.rs is `a`; the crate roots are empty.
fn module_path(rel: &str) -> Vec<String> {
    let path = &rel["src/".len()..rel.len() - ".rs".len()];
    let path = path.strip_suffix("/mod").unwrap_or(path);
    if path == "lib" || path == "main" {
        return Vec::new();
    }
    path.split('/').map(String::from).collect()
}

/// `from`'s allow-list with `"leaves"` spelt out; `None` for a module not in MODULES.
fn allowed_modules(from: &str) -> Option<Vec<&'static str>> {
    let (_, allowed) = MODULES.iter().find(|(module, _)| *module == from)?;
    let leaves = LEAVES.iter().filter(|_| allowed.contains(&"leaves"));
    let allowed = allowed.iter().filter(|m| **m != "leaves");
    Some(allowed.chain(leaves).copied().collect())
}

fn module_problem(from: &str, to: &str) -> Option<String> {
    let allowed = allowed_modules(from)?; // an unknown module is reported once, in violations
    if from == to || allowed.contains(&"*") || allowed.contains(&to) {
        return None;
    }
    // A root re-export (`crate::Error`) is its own name here: import it from its owner.
    let list = allowed.join(", ");
    let list = if list.is_empty() { "none" } else { &list };
    let problem = format!("module `{from}` imports `crate::{to}` (allowed: {list})");
    Some(problem)
}

fn crate_problem(name: &str, rel: &str) -> Option<String> {
    let (_, places) = CRATES.iter().find(|(crates, _)| crates.contains(&name))?;
    let inside = |place: &&str| {
        rel == *place || rel == format!("{place}.rs") || rel.starts_with(&format!("{place}/"))
    };
    let outside = format!("crate `{name}` used outside {}", places.join(", "));
    (!places.iter().any(inside)).then_some(outside)
}

/// Walks one file's non-test code and reports what its paths reach.
struct Uses<'a> {
    rel: &'a str,
    /// Module of the code being visited, for `self::` and `super::`.
    module: Vec<String>,
    /// Child modules declared in the current scope: `rss::x` there is ours, not the crate.
    mods: HashSet<String>,
    found: &'a mut BTreeSet<(String, usize, String)>,
}

impl Uses<'_> {
    fn record(&mut self, segments: &[&Ident], leading_colon: bool, in_use: bool) -> Option<()> {
        let first = *segments.first()?;
        let name = first.to_string();
        let (mut path, rest) = match name.as_str() {
            "crate" => (Vec::new(), &segments[1..]),
            "self" => (self.module.clone(), &segments[1..]),
            "super" => {
                let ups = segments.iter().take_while(|s| **s == "super").count();
                let keep = self.module.len().checked_sub(ups)?;
                (self.module[..keep].to_vec(), &segments[ups..])
            }
            _ if !leading_colon && self.mods.contains(&name) => (self.module.clone(), segments),
            // Outside a `use`, one segment is a local or an imported name (checked at its `use`).
            _ if in_use || segments.len() > 1 => {
                return self.report(first, crate_problem(&name, self.rel));
            }
            _ => return None,
        };
        path.extend(rest.iter().map(ToString::to_string));
        let problem = module_problem(self.module.first()?, path.first()?);
        self.report(first, problem)
    }

    fn report(&mut self, at: &Ident, problem: Option<String>) -> Option<()> {
        let line = at.span().start().line;
        self.found.insert((self.rel.to_string(), line, problem?));
        Some(())
    }
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_file(&mut self, file: &'ast syn::File) {
        self.mods = child_mods(&file.items);
        visit::visit_file(self, file);
    }

    fn visit_item(&mut self, item: &'ast Item) {
        let attrs: &[Attribute] = match item {
            Item::Mod(i) => &i.attrs,
            Item::Use(i) => &i.attrs,
            Item::Fn(i) => &i.attrs,
            Item::Impl(i) => &i.attrs,
            Item::Const(i) => &i.attrs,
            Item::Static(i) => &i.attrs,
            Item::Struct(i) => &i.attrs,
            Item::Enum(i) => &i.attrs,
            Item::Trait(i) => &i.attrs,
            Item::Macro(i) => &i.attrs,
            _ => &[],
        };
        if !attrs.iter().any(is_cfg_test) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if !item.attrs.iter().any(is_cfg_test) {
            visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast ItemMod) {
        if let Some((_, items)) = &item.content {
            let outer = std::mem::replace(&mut self.mods, child_mods(items));
            self.module.push(item.ident.to_string());
            visit::visit_item_mod(self, item);
            self.module.pop();
            self.mods = outer;
        }
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        let mut leaves = Vec::new();
        flatten(&item.tree, &mut Vec::new(), &mut leaves);
        for path in leaves {
            self.record(&path, item.leading_colon.is_some(), true);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<&Ident> = path.segments.iter().map(|s| &s.ident).collect();
        self.record(&segments, path.leading_colon.is_some(), false);
        visit::visit_path(self, path);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        // `#[derive(clap::Parser)]`: syn keeps a derive's paths as tokens.
        let paths = Punctuated::<syn::Path, Token![,]>::parse_terminated;
        if attr.path().is_ident("derive")
            && let Ok(paths) = attr.parse_args_with(paths)
        {
            paths.iter().for_each(|path| self.visit_path(path));
        }
        visit::visit_attribute(self, attr);
    }

    fn visit_macro(&mut self, mac: &'ast Macro) {
        // `format!("{}", crate::x::f())`: bodies that read as expressions are code too.
        if let Ok(args) = mac.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
            args.iter().for_each(|arg| self.visit_expr(arg));
        }
        visit::visit_macro(self, mac);
    }
}

fn is_cfg_test(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg") && attr.parse_args::<Ident>().is_ok_and(|arg| arg == "test")
}

fn child_mods(items: &[Item]) -> HashSet<String> {
    let mods = items.iter().filter_map(|item| match item {
        Item::Mod(m) => Some(m.ident.to_string()),
        _ => None,
    });
    mods.collect()
}

/// Each leaf of a use tree as its full path; a glob's ends at the module it reads.
fn flatten<'a>(tree: &'a UseTree, prefix: &mut Vec<&'a Ident>, out: &mut Vec<Vec<&'a Ident>>) {
    let leaf = |last: &'a Ident| [prefix.as_slice(), &[last]].concat();
    match tree {
        UseTree::Path(p) => {
            prefix.push(&p.ident);
            flatten(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => out.push(leaf(&n.ident)),
        UseTree::Rename(r) => out.push(leaf(&r.ident)),
        UseTree::Glob(_) => out.push(prefix.clone()),
        UseTree::Group(g) => g.items.iter().for_each(|t| flatten(t, prefix, out)),
    }
}
