//! Guards the one-way layering of src/ at every level it has: which crate
//! modules each top-level module may import (`MODULES`), which rooms of a
//! module may import which of their siblings (`ROOMS`), which files may use
//! which third-party crates (`CRATES`, one row for every dependency in
//! Cargo.toml), and that only the commands and `main` reach the terminal
//! (`TERMINAL`: `println!`, `eprintln!`, `print!`, `eprint!`, `dbg!`,
//! `io::stdout`, `io::stderr`), so that clap, the terminal, SMTP and `SQLite`
//! stay where they belong and data keeps flowing one way.
//!
//! Every `src/**/*.rs` is parsed with syn, so comments, doc comments and
//! strings never count; `use` trees, paths in code and types, macro paths,
//! derive lists and macro bodies that parse as expressions do. Code under
//! `#[cfg(test)]` and a module's `tests.rs` are skipped: tests may use anything.
//!
//! To update: when a module moves or a new one appears, edit `MODULES` (a new
//! top-level module fails the test until it has a row) or `ROOMS` (so does a
//! new file in a room); when a crate is added or changes its home, edit
//! `CRATES` (a dependency without a row fails too). The tables describe the
//! layout we want, so a failure lists real violations, one `file:line` each.
//! The checker's own tests, at the end, plant one violation of each kind in
//! a small tree held in memory and expect it reported.
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
const LEAVES: &[&str] = &["permalink_style", "address", "slug", "text"];

/// Each top-level module of src/lib.rs and the crate modules it may import
/// besides itself; anything not listed is forbidden. `"*"` allows everything;
/// `"mail::notice"` allows that room of `mail` and no other.
/// src/lib.rs and src/main.rs wire the modules together and are not restricted.
#[rustfmt::skip] // one row a module, however long
const MODULES: &[(&str, &[&str])] = &[
    ("commands", &["*"]),
    ("config", &["error", "leaves"]),
    ("error", &[]),
    ("permalink_style", &["error"]),
    ("address", &["error"]),
    ("text", &[]),
    ("slug", &[]),
    ("posts_folder", &["build_cache", "config", "error", "post", "leaves"]),
    ("build_cache", &["config", "error", "output", "post"]),
    ("post", &["config", "error", "leaves"]),
    ("feed", &["config", "error", "post", "leaves"]),
    ("email", &["config", "error", "post", "leaves"]),
    ("output", &["error"]),
    ("store", &["config", "error", "leaves"]),
    ("list", &["config", "error", "store", "leaves"]),
    ("serve", &["config", "error", "list", "mail::notice", "leaves"]),
    ("inbox", &["config", "error", "list", "mail::notice", "leaves"]),
    // What a run sends: posts read, recipients chosen, each email rendered once.
    ("outbox", &["config", "error", "post", "email", "output", "posts_folder", "store", "list", "mail", "leaves"]),
    // The last stage: a prepared plan in, messages sent and outcomes recorded.
    ("mail", &["config", "error", "email", "store", "list", "leaves"]),
    ("web_client", &["error"]),
];

/// The rooms of each module that has a folder: each file (or folder) of it,
/// and the siblings it may import; `"mod"` stands for the module's own items
/// (its mod.rs: the types its rooms share, and the helpers its stages use).
/// A room's subfolders belong to the room. The module's mod.rs may import all
/// its rooms; `commands` (`"*"` above) has no row.
#[rustfmt::skip] // one row a room, however long
const ROOMS: &[(&str, &[Room])] = &[
    ("config", &[
        ("data", &[]),
        ("dkim", &[]),
        ("jekyll", &["mod"]),
        ("defaults", &["data", "jekyll", "mod"]),
        ("list", &["file", "mod"]),
        ("pages", &[]),
        ("provider", &["mod"]),
        ("file", &["dkim", "jekyll", "list", "pages", "provider", "mod"]),
    ]),
    ("post", &[
        ("date", &[]),
        ("front_matter", &["usual_yaml"]),
        ("markdown", &[]),
        ("permalink", &[]),
        // The usual shape of front matter, read without serde-saphyr.
        ("usual_yaml", &[]),
        ("liquid", &["date", "front_matter", "markdown", "mod"]),
    ]),
    ("feed", &[
        ("links", &["mod"]),
        ("rss", &["mod"]),
        ("atom", &["mod"]),
        ("json", &["mod"]),
        ("archive", &["atom", "json", "rss", "mod"]),
    ]),
    ("email", &[
        ("rollup", &["mod"]),
        ("slots", &[]),
        ("text_part", &[]),
    ]),
    // The list's and the inbox's tables beside the runs' own.
    ("store", &[
        ("list", &["mod"]),
        ("inbox", &["mod"]),
        ("weekly", &["mod"]),
    ]),
    // The list over the store: who is listed, the tokens of its links, what
    // a bounce says, the store as one inbox run holds it.
    ("list", &[
        ("subscribers", &[]),
        ("token", &[]),
        ("verdict", &[]),
        ("ledger", &["subscribers", "mod"]),
    ]),
    // Building and sending messages (and the list's notices); the send's
    // stages on top.
    ("mail", &[
        ("dkim", &[]),
        // A part's body encoded once per post but for its personal lines: pure.
        ("body", &[]),
        // What a failed send means and whether it is tried again: pure.
        ("retry", &[]),
        ("transport", &["retry"]),
        ("message", &["body", "dkim"]),
        ("policy", &["retry"]),
        ("notice", &["message", "retry", "transport"]),
        ("record", &["retry", "mod"]),
        ("setup", &["message"]),
        ("workers", &["message", "policy", "record", "retry", "transport", "mod"]),
        ("send", &["policy", "record", "transport", "workers", "mod"]),
    ]),
    // What a run sends, decided and rendered; `status` reports it, the dry
    // run shows it.
    ("outbox", &[
        ("plan", &[]),
        ("rollup", &[]),
        ("weekly", &["rollup", "mod"]),
        ("dry_run", &["mod"]),
        ("status", &["plan", "rollup", "mod"]),
    ]),
    ("inbox", &[
        ("read", &[]),
        ("maildir", &[]),
        ("imap", &["maildir"]),
    ]),
    ("serve", &[
        ("connection", &[]),
        ("pages", &[]),
        ("tokens", &[]),
        ("limit", &["connection", "pages", "mod"]),
        ("signups", &["limit", "tokens"]),
    ]),
];

/// A room of a module, and the siblings it may import.
type Room = (&'static str, &'static [&'static str]);

/// Third-party crates (as named in code) and the only places that may use
/// them: a place ending in `.rs` is that file, `src` is everywhere, any other
/// a module's file or folder (`src/config` is src/config.rs or src/config/).
/// Every dependency of Cargo.toml has a row: one without fails the test.
#[rustfmt::skip] // one row a home, however long
const CRATES: &[(&[&str], &[&str])] = &[
    // The vocabulary every stage speaks: derives, and time.
    (&["serde", "jiff"], &["src"]),
    (&["thiserror"], &["src/error.rs"]),
    (&["clap"], &["src/commands/cli.rs", "src/commands/manual.rs", "src/main.rs"]),
    (&["clap_complete"], &["src/commands/cli.rs"]),
    // Dev-dependencies: manual.rs is compiled for its test only, which writes docs/man/.
    (&["clap_mangen", "roff"], &["src/commands/manual.rs"]),
    (&["indicatif"], &["src/commands/report.rs"]),
    (&["toml"], &["src/config"]),
    // "Did you mean": a misspelt config key or front-matter field.
    (&["strsim"], &["src/config/file.rs", "src/config/provider.rs", "src/post/mod.rs"]),
    (&["pulldown_cmark", "ammonia"], &["src/post/markdown"]),
    (&["liquid_core", "liquid_lib"], &["src/post/liquid"]),
    // Jekyll's permalink placeholders, and its date forms.
    (&["regex"], &["src/slug.rs", "src/post/date.rs"]),
    // Jekyll's YAML: front matter, and the blog's _config.yml.
    (&["serde_saphyr"], &["src/post/front_matter.rs", "src/config/jekyll.rs"]),
    // Escaping where HTML is written: post bodies, feeds, emails, the list's pages.
    // And unescaping: a fetched page's title (`mail --wait-live`).
    (&["html_escape"], &["src/post", "src/feed", "src/email", "src/serve/pages.rs", "src/commands/live.rs"]),
    // Jekyll's slugify and uri_escape, and the list links in an email.
    (&["percent_encoding"], &["src/post", "src/email"]),
    // Addresses, the site's URL, links in posts, the list's links, a request's Origin.
    (&["url"], &["src/address.rs", "src/config", "src/post", "src/mail/message.rs", "src/serve/mod.rs"]),
    (&["rss"], &["src/feed/rss.rs"]),
    (&["atom_syndication", "chrono"], &["src/feed/atom.rs"]),
    // JSON Feed, the `--json` results the terminal prints, and Liquid's `jsonify`.
    // ... and the build cache's one file.
    (&["serde_json"], &["src/feed/json.rs", "src/commands/report.rs", "src/post/liquid/json.rs", "src/build_cache.rs"]),
    (&["tera", "css_inline", "html2text"], &["src/email"]),
    (&["lettre"], &["src/mail/message.rs", "src/mail/transport.rs", "src/address.rs"]),
    (&["email_encoding"], &["src/mail/message.rs", "src/mail/body.rs"]),
    (&["quoted_printable"], &["src/mail/body.rs"]),
    (&["mail_auth"], &["src/mail/dkim.rs"]),
    // Keys (the DKIM key, checked at load), digests and the list's HMAC tokens,
    // and the hash of each feed the WebSub hub was told of.
    (&["ring"], &["src/config/dkim.rs", "src/list/token.rs", "src/mail/message.rs", "src/outbox/dry_run.rs", "src/commands/ping.rs"]),
    (&["rustls_pki_types", "spki"], &["src/config/dkim.rs"]),
    // base64: the DKIM key's DNS record, the list's tokens (base64url), and
    // the login forms of the password that transport.rs blanks out of a reply.
    (&["base64"], &["src/config/dkim.rs", "src/list/token.rs", "src/mail/transport.rs"]),
    (&["tokio"], &["src/mail/transport.rs", "src/serve", "src/inbox/imap.rs"]),
    (&["async_imap", "futures_util", "tokio_rustls", "rustls_native_certs"], &["src/inbox/imap.rs"]),
    // Only to tell lettre's TLS errors apart (the same rustls it links).
    (&["rustls"], &["src/mail/transport.rs"]),
    // The retry backoff's jitter.
    (&["fastrand"], &["src/mail/retry.rs"]),
    (&["axum"], &["src/serve"]),
    (&["mail_parser"], &["src/inbox/read.rs"]),
    (&["rusqlite"], &["src/store"]),
    // Files replaced whole, never half-written: outputs, the state, the list's secret.
    (&["tempfile"], &["src/output.rs", "src/store", "src/list/token.rs"]),
    (&["csv"], &["src/list/subscribers.rs"]),
    // A folder listed into one buffer, a file `stat`ed by its name in that
    // open folder, a new thread moved to the idle core (the standard
    // library has none of them); built for tempfile already.
    (&["rustix"], &["src/posts_folder.rs"]),
    // NFKC: addresses, and URLs as Jekyll's absolute_url (Addressable) folds them.
    (&["unicode_normalization"], &["src/address.rs", "src/post/permalink.rs"]),
    // HTTP out: the WebSub hub's ping and `mail --wait-live`'s fetch.
    (&["ureq"], &["src/web_client.rs"]),
];

/// The only places that may reach the terminal; every other module returns
/// what it has to say, or hands it to the caller's report.
const TERMINAL: &[&str] = &["src/commands", "src/main.rs"];

/// The macros that write to the terminal.
const PRINTS: &[&str] = &["println", "eprintln", "print", "eprint", "dbg"];

#[test]
fn every_dependency_has_one_row_in_crates() {
    let deps = dependencies();
    let crates: Vec<_> = CRATES.iter().flat_map(|(crates, _)| *crates).collect();
    // A crate misspelt in CRATES, or since dropped, would never match: say so.
    let stale: Vec<_> = crates
        .iter()
        .filter(|c| !deps.contains(&c.to_string()))
        .collect();
    assert!(stale.is_empty(), "CRATES names non-dependencies: {stale:?}");
    let missing: Vec<_> = deps
        .iter()
        .filter(|d| !crates.iter().any(|c| c == d))
        .collect();
    assert!(
        missing.is_empty(),
        "dependencies without a row in CRATES: {missing:?}"
    );
}

#[test]
fn src_follows_the_module_room_crate_and_terminal_tables() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<_> = paths
        .iter()
        .map(|path| {
            let rel = format!("src/{}", path.strip_prefix(&src).unwrap().display());
            (rel, fs::read_to_string(path).unwrap())
        })
        .collect();
    let found = violations(&files, &dependencies());
    let report = format!("{} violations:\n{}", found.len(), found.join("\n"));
    assert!(found.is_empty(), "{report}");
}

/// The names code uses for Cargo.toml's `[dependencies]`.
fn dependencies() -> Vec<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let manifest: toml::Table = fs::read_to_string(manifest).unwrap().parse().unwrap();
    let names = |table: &str| -> Vec<String> {
        manifest[table]
            .as_table()
            .unwrap()
            .keys()
            .map(|d| d.replace('-', "_"))
            .collect()
    };
    let mut deps = names("dependencies");
    // A dev-dependency src/ itself uses, in a test-only module (the man
    // pages' clap_mangen and roff), is held to its row like the others.
    let listed: Vec<&str> = CRATES
        .iter()
        .flat_map(|(crates, _)| *crates)
        .copied()
        .collect();
    deps.extend(
        names("dev-dependencies")
            .into_iter()
            .filter(|dev| listed.contains(&dev.as_str())),
    );
    deps
}

/// Every violation in `files` (path under src/, text), as `src/file:line: problem`, by file and line.
fn violations(files: &[(String, String)], deps: &[String]) -> Vec<String> {
    let files: Vec<_> = files
        .iter()
        .filter(|(rel, _)| !rel.ends_with("/tests.rs"))
        .collect();
    let modules: HashSet<Vec<String>> = files.iter().map(|(rel, _)| module_path(rel)).collect();
    let mut found = BTreeSet::new();
    for (rel, text) in files {
        let module = module_path(rel);
        if let Some(problem) = missing_row(&module) {
            found.insert((rel.clone(), 1, problem));
        }
        let ast = syn::parse_file(text).unwrap_or_else(|err| panic!("{rel}: {err}"));
        let mut uses = Uses {
            rel,
            module,
            mods: HashSet::new(),
            modules: &modules,
            deps,
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

/// Why a file's module needs a row it lacks: in `MODULES`, or in `ROOMS`.
fn missing_row(module: &[String]) -> Option<String> {
    let top = module.first()?;
    let Some(allowed) = allowed_modules(top) else {
        return Some(format!("module `{top}` is not in MODULES; give it a row"));
    };
    let room = module.get(1)?;
    let rooms_free = allowed.contains(&"*");
    (!rooms_free && siblings(top, room).is_none())
        .then(|| format!("room `{top}::{room}` is not in ROOMS; give it a row"))
}

/// `from`'s allow-list with `"leaves"` spelt out; `None` for a module not in MODULES.
fn allowed_modules(from: &str) -> Option<Vec<&'static str>> {
    let (_, allowed) = MODULES.iter().find(|(module, _)| *module == from)?;
    let leaves = LEAVES.iter().filter(|_| allowed.contains(&"leaves"));
    let allowed = allowed.iter().filter(|m| **m != "leaves");
    Some(allowed.chain(leaves).copied().collect())
}

/// The siblings room `top::room` may import; `None` without a row.
fn siblings(top: &str, room: &str) -> Option<&'static [&'static str]> {
    let (_, rooms) = ROOMS.iter().find(|(module, _)| *module == top)?;
    let (_, allowed) = rooms.iter().find(|(name, _)| *name == room)?;
    Some(allowed)
}

/// Whether code in module `from` may reach the crate path `to`; why not if not.
fn module_problem(
    from: &[String],
    to: &[String],
    modules: &HashSet<Vec<String>>,
) -> Option<String> {
    let top = from.first()?;
    let to_top = to.first()?;
    if top != to_top {
        let allowed = allowed_modules(top)?; // an unknown module is reported once, in violations
        let reaches = |entry: &&str| entry.split("::").zip(to).all(|(a, b)| a == b);
        if allowed.contains(&"*") || allowed.iter().any(reaches) {
            return None;
        }
        // Name the room when the allow-list names rooms of that module.
        let rooms = allowed
            .iter()
            .any(|a| a.starts_with(&format!("{to_top}::")));
        let target = match to.get(1) {
            Some(room) if rooms => format!("{to_top}::{room}"),
            _ => to_top.clone(),
        };
        // A root re-export (`crate::Error`) is its own name here: import it from its owner.
        let list = allowed.join(", ");
        let list = if list.is_empty() { "none" } else { &list };
        return Some(format!(
            "module `{top}` imports `crate::{target}` (allowed: {list})"
        ));
    }
    // Within one module: a room against its siblings.
    let (room, to_room) = (from.get(1)?, to.get(1)?);
    if room == to_room {
        return None;
    }
    let allowed = siblings(top, room)?; // a room without a row is reported once, in violations
    let is_room = modules.contains(&vec![top.clone(), to_room.clone()]);
    let name = if is_room { to_room.as_str() } else { "mod" };
    if allowed.contains(&name) {
        return None;
    }
    let from_mod = if is_room {
        String::new()
    } else {
        format!(" from {top}'s mod.rs")
    };
    let list = if allowed.is_empty() {
        "none".to_string()
    } else {
        allowed.join(", ")
    };
    Some(format!(
        "room `{top}::{room}` imports `crate::{top}::{to_room}`{from_mod} (allowed in {top}: {list})"
    ))
}

fn crate_problem(name: &str, rel: &str, deps: &[String]) -> Option<String> {
    if !deps.iter().any(|dep| dep == name) {
        return None; // std, core, a local name
    }
    let Some((_, places)) = CRATES.iter().find(|(crates, _)| crates.contains(&name)) else {
        return Some(format!(
            "crate `{name}` has no row in CRATES; give it its room"
        ));
    };
    let outside = format!("crate `{name}` used outside {}", places.join(", "));
    (!places.iter().any(|place| inside(rel, place))).then_some(outside)
}

/// Whether file `rel` is at `place`: that file, or a file of that module or folder.
fn inside(rel: &str, place: &str) -> bool {
    rel == place || rel == format!("{place}.rs") || rel.starts_with(&format!("{place}/"))
}

fn terminal_problem(rel: &str, what: &str) -> Option<String> {
    let allowed = TERMINAL.iter().any(|place| inside(rel, place));
    let places = TERMINAL.join(" and ");
    (!allowed).then(|| {
        format!("terminal output (`{what}`) outside {places}: return it, or hand it to the caller")
    })
}

/// Walks one file's non-test code and reports what its paths reach.
struct Uses<'a> {
    rel: &'a str,
    /// Module of the code being visited, for `self::` and `super::`.
    module: Vec<String>,
    /// Child modules declared in the current scope: `rss::x` there is ours, not the crate.
    mods: HashSet<String>,
    /// Every module that has a file, to tell a room from a module's own item.
    modules: &'a HashSet<Vec<String>>,
    /// The names of Cargo.toml's dependencies.
    deps: &'a [String],
    found: &'a mut BTreeSet<(String, usize, String)>,
}

impl Uses<'_> {
    fn record(&mut self, segments: &[&Ident], leading_colon: bool, in_use: bool) -> Option<()> {
        let first = *segments.first()?;
        let stream = segments.windows(2).find(|pair| {
            pair[0] == "io"
                && ["stdout", "stderr"]
                    .iter()
                    .any(|s| pair[1].to_string().eq_ignore_ascii_case(s))
        });
        if let Some(pair) = stream {
            let problem = terminal_problem(self.rel, &format!("io::{}", pair[1]));
            self.report(pair[1], problem);
        }
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
                return self.report(first, crate_problem(&name, self.rel, self.deps));
            }
            _ => return None,
        };
        path.extend(rest.iter().map(ToString::to_string));
        let problem = module_problem(&self.module, &path, self.modules);
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
        if let Some(last) = mac.path.segments.last()
            && PRINTS.iter().any(|print| last.ident == print)
        {
            let problem = terminal_problem(self.rel, &format!("{}!", last.ident));
            self.report(&last.ident, problem);
        }
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

/// A tree held in memory: each `== path` line starts a file under src/.
fn tree(text: &str) -> Vec<(String, String)> {
    let file = |file: &str| {
        let (path, text) = file.split_once('\n').unwrap();
        (format!("src/{path}"), text.to_string())
    };
    text.split("== ").skip(1).map(file).collect()
}

/// The checker on a tree held in memory, with these dependencies.
fn check(text: &str) -> Vec<String> {
    let deps = ["lettre", "serde_saphyr", "tokio", "not_in_crates"].map(String::from);
    violations(&tree(text), &deps)
}

#[test]
fn the_checker_reports_an_upward_import_at_every_level() {
    let found = check(
        "== post/mod.rs
use crate::feed::Feed;
== serve/mod.rs
use crate::mail::notice::send_notice;
use crate::mail::transport::Transport;
== mail/mod.rs
use transport::Transport;
pub trait Observer {}
== mail/notice.rs
use super::record::Recorder;
== mail/record.rs
== mail/transport.rs
== mail/state.rs
use super::transport::Transport;
== list/mod.rs
use crate::mail::notice::Notice;
== store/mod.rs
== store/list.rs
use super::State;
use crate::list::Member;
== mail/policy.rs
use super::Observer;
== mail/send.rs
use crate::post::Post;
",
    );
    let post = "(allowed: config, error, permalink_style, address, slug, text)";
    let serve =
        "(allowed: config, error, list, mail::notice, permalink_style, address, slug, text)";
    let list = "(allowed: config, error, store, permalink_style, address, slug, text)";
    let store = "(allowed: config, error, permalink_style, address, slug, text)";
    // mail only sends: the posts are read and rendered before it.
    let mail = "(allowed: config, error, email, store, list, permalink_style, address, slug, text)";
    assert_eq!(
        found,
        [
            format!("src/list/mod.rs:1: module `list` imports `crate::mail` {list}"),
            "src/mail/notice.rs:1: room `mail::notice` imports `crate::mail::record` \
             (allowed in mail: message, retry, transport)"
                .to_string(),
            "src/mail/policy.rs:1: room `mail::policy` imports `crate::mail::Observer` \
             from mail's mod.rs (allowed in mail: retry)"
                .to_string(),
            format!("src/mail/send.rs:1: module `mail` imports `crate::post` {mail}"),
            "src/mail/state.rs:1: room `mail::state` is not in ROOMS; give it a row".to_string(),
            format!("src/post/mod.rs:1: module `post` imports `crate::feed` {post}"),
            format!("src/serve/mod.rs:2: module `serve` imports `crate::mail::transport` {serve}"),
            format!("src/store/list.rs:2: module `store` imports `crate::list` {store}"),
        ]
    );
}

#[test]
fn the_checker_reports_terminal_output_outside_the_commands() {
    let found = check(
        r#"== feed/mod.rs
pub fn f() { println!("x"); }
pub fn g() { let _ = std::io::stderr(); }
pub fn h(out: &mut String) { use std::fmt::Write; let _ = writeln!(out, "{}", 1); dbg!(2); }
== serve/mod.rs
use std::io::{self, Write};
fn f() { let _ = io::stdout().flush(); }
== commands/mod.rs
pub fn f() { eprintln!("a command may print"); let _ = std::io::stdout(); }
== main.rs
fn main() { print!("so may main"); }
"#,
    );
    let outside = "outside src/commands and src/main.rs: return it, or hand it to the caller";
    assert_eq!(
        found,
        [
            format!("src/feed/mod.rs:1: terminal output (`println!`) {outside}"),
            format!("src/feed/mod.rs:2: terminal output (`io::stderr`) {outside}"),
            format!("src/feed/mod.rs:3: terminal output (`dbg!`) {outside}"),
            format!("src/serve/mod.rs:2: terminal output (`io::stdout`) {outside}"),
        ]
    );
}

#[test]
fn the_checker_reports_a_crate_outside_its_room_or_without_one() {
    let found = check(
        "== post/mod.rs
pub fn f() { lettre::Address::new(); }
== post/front_matter.rs
use serde_saphyr::from_str;
== feed/mod.rs
use not_in_crates::Thing;
use std::fmt::Write;
== serve/mod.rs
async fn f() { tokio::task::yield_now().await; }
",
    );
    let lettre = "src/mail/message.rs, src/mail/transport.rs, src/address.rs";
    assert_eq!(
        found,
        [
            "src/feed/mod.rs:1: crate `not_in_crates` has no row in CRATES; give it its room"
                .to_string(),
            format!("src/post/mod.rs:1: crate `lettre` used outside {lettre}"),
        ]
    );
}

#[test]
fn the_checker_skips_comments_strings_tests_and_our_own_modules() {
    let found = check(
        r#"== lib.rs
pub mod check;
== check.rs
== error.rs
pub fn f() -> String { format!("{}", crate::config::NAME) }
== config.rs
use crate::error::Error;
/// crate::feed in a comment, println!("x")
const S: &str = "crate::feed";
#[cfg(test)]
mod tests { use crate::post::Post; fn f() { println!("x"); } }
== post/mod.rs
mod front_matter;
mod lettre;
use super::config;
pub fn f() { lettre::Address::new(); front_matter::g(); }
== post/front_matter.rs
use serde_saphyr::from_str;
use super::super::feed::Feed;
== post/lettre.rs
== post/tests.rs
use crate::feed::Feed;
fn f() { println!("x"); }
"#,
    );
    let post = "(allowed: config, error, permalink_style, address, slug, text)";
    assert_eq!(
        found,
        [
            "src/check.rs:1: module `check` is not in MODULES; give it a row".to_string(),
            "src/error.rs:1: module `error` imports `crate::config` (allowed: none)".to_string(),
            format!("src/post/front_matter.rs:2: module `post` imports `crate::feed` {post}"),
            "src/post/lettre.rs:1: room `post::lettre` is not in ROOMS; give it a row".to_string(),
        ]
    );
}
