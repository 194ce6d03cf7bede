//! Liquid's tags and blocks, and Jekyll's: `highlight`, `link`,
//! `post_url`, `include` (from `_includes/`, with parameters), and the
//! stand-in for a plugin's tag digest-feed does not know.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use liquid_core::error::ResultLiquidReplaceExt;
use liquid_core::runtime::PartialStore;
use liquid_core::{
    BlockReflection, Language, ParseBlock, ParseTag, Renderable, Result, Runtime, TagBlock,
    TagReflection, TagTokenIter, Template,
};
use liquid_lib::{jekyll, stdlib};

use super::MAX_INCLUDE_DEPTH;
use crate::post::SiteContext;

/// Liquid's standard tags and blocks, and Jekyll's `highlight`.
pub(super) fn register(language: &mut Language) {
    let tags: Vec<Box<dyn ParseTag>> = vec![
        Box::new(stdlib::AssignTag),
        Box::new(stdlib::BreakTag),
        Box::new(stdlib::ContinueTag),
        Box::new(stdlib::CycleTag),
        Box::new(stdlib::IncrementTag),
        Box::new(stdlib::DecrementTag),
    ];
    for tag in tags {
        let name = tag.reflection().tag().to_string();
        language.tags.register(name, tag);
    }
    let blocks: Vec<Box<dyn ParseBlock>> = vec![
        Box::new(stdlib::RawBlock),
        Box::new(stdlib::IfBlock),
        Box::new(stdlib::UnlessBlock),
        Box::new(stdlib::IfChangedBlock),
        Box::new(stdlib::ForBlock),
        Box::new(stdlib::TableRowBlock),
        Box::new(stdlib::CommentBlock),
        Box::new(stdlib::CaptureBlock),
        Box::new(stdlib::CaseBlock),
        Box::new(Highlight),
    ];
    for block in blocks {
        let name = block.reflection().start_tag().to_string();
        language.blocks.register(name, block);
    }
}

/// The tags that need the post's site: `link`, `post_url`, `include`.
pub(super) fn register_site(language: &mut Language, site: &Arc<SiteContext>) {
    language.tags.register(
        "link".into(),
        Box::new(Link {
            site: site.clone(),
            post_url: false,
        }),
    );
    language.tags.register(
        "post_url".into(),
        Box::new(Link {
            site: site.clone(),
            post_url: true,
        }),
    );
    language
        .tags
        .register("include".into(), Box::new(jekyll::IncludeTag));
}

/// A plugin's tag digest-feed does not know: renders nothing.
pub(super) fn register_ignored(language: &mut Language, name: &str) {
    language.tags.register(name.to_string(), Box::new(Ignored));
}

#[derive(Clone, Copy, Debug)]
struct Ignored;

impl TagReflection for Ignored {
    fn tag(&self) -> &'static str {
        "unknown"
    }

    fn description(&self) -> &'static str {
        "a plugin's tag, left out"
    }
}

impl ParseTag for Ignored {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        _options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        arguments.for_each(drop);
        Ok(Box::new(Nothing))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

#[derive(Debug)]
struct Nothing;

impl Renderable for Nothing {
    fn render_to(&self, _writer: &mut dyn Write, _runtime: &dyn Runtime) -> Result<()> {
        Ok(())
    }
}

/// `{% link path %}` and `{% post_url name %}`: the URL path (base path
/// included) of a post read, as Jekyll's `relative_url` gives it.
#[derive(Clone, Debug)]
struct Link {
    site: Arc<SiteContext>,
    post_url: bool,
}

impl TagReflection for Link {
    fn tag(&self) -> &'static str {
        if self.post_url { "post_url" } else { "link" }
    }

    fn description(&self) -> &'static str {
        "the URL of a post or page"
    }
}

impl ParseTag for Link {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        _options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let target: String = arguments
            .map(|token| token.as_str().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        let target = target.trim().trim_matches(['"', '\'']).trim().to_string();
        let path = self
            .site
            .post_path(&target)
            .or_else(|| self.site.post_path(target.trim_start_matches("_posts/")));
        let path = match path {
            Some(path) => path,
            None if self.post_url => {
                return Err(liquid_core::Error::with_msg(format!(
                    "{{% post_url {target} %}} names no post in the posts folder"
                )));
            }
            None => page_path(&target, &self.site),
        };
        Ok(Box::new(Text(path)))
    }

    fn reflection(&self) -> &dyn TagReflection {
        self
    }
}

/// Where Jekyll puts a page or a collection's document that is not a post:
/// `_docs/history.md` at `/docs/history.html` (the default
/// `/:collection/:path:output_ext`), `about.md` at `/about.html`.
fn page_path(target: &str, site: &SiteContext) -> String {
    let base = site
        .rules
        .as_ref()
        .map(|rules| super::split_base(&rules.site_url).1)
        .unwrap_or_default();
    let path = target.strip_prefix('_').unwrap_or(target);
    let path = Path::new(path);
    let html = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("md" | "markdown" | "mkdown" | "mkdn" | "mkd" | "html")
    );
    let path = if html {
        path.with_extension("html")
    } else {
        path.to_path_buf()
    };
    format!("{base}/{}", path.to_string_lossy())
}

#[derive(Debug)]
struct Text(String);

impl Renderable for Text {
    fn render_to(&self, writer: &mut dyn Write, _runtime: &dyn Runtime) -> Result<()> {
        write!(writer, "{}", self.0).replace("Failed to render")?;
        Ok(())
    }
}

/// `{% highlight lang %}...{% endhighlight %}`: the code as Jekyll's Rouge
/// gives it, without the colours. It starts with `<pre` so that Markdown
/// takes all of it, blank lines too, as one HTML block.
#[derive(Clone, Copy, Debug)]
struct Highlight;

impl BlockReflection for Highlight {
    fn start_tag(&self) -> &'static str {
        "highlight"
    }

    fn end_tag(&self) -> &'static str {
        "endhighlight"
    }

    fn description(&self) -> &'static str {
        "a code block"
    }
}

impl ParseBlock for Highlight {
    fn parse(
        &self,
        arguments: TagTokenIter<'_>,
        mut block: TagBlock<'_, '_>,
        _options: &Language,
    ) -> Result<Box<dyn Renderable>> {
        let words: Vec<String> = arguments.map(|token| token.as_str().to_string()).collect();
        let language: String = words
            .first()
            .map(|word| {
                word.chars()
                    .filter(|c| c.is_alphanumeric() || "+-_#".contains(*c))
                    .collect()
            })
            .unwrap_or_default();
        let code = block.escape_liquid(false)?.trim_matches('\n').to_string();
        block.assert_empty();
        let code = html_escape::encode_text(&code);
        let class = if language.is_empty() {
            "plaintext".to_string()
        } else {
            language
        };
        Ok(Box::new(Text(format!(
            "<pre class=\"highlight\"><code class=\"language-{class}\" data-lang=\"{class}\">{code}</code></pre>"
        ))))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self
    }
}

/// `_includes/`, read and parsed on first use, as `{% include %}` asks.
/// A name leaving the folder is refused, as Jekyll refuses it.
pub(super) struct Includes {
    folder: PathBuf,
    language: Language,
    parsed: RefCell<HashMap<String, Arc<dyn Renderable>>>,
    depth: Arc<AtomicUsize>,
}

impl Includes {
    pub(super) fn new(folder: PathBuf, language: Language) -> Includes {
        Includes {
            folder,
            language,
            parsed: RefCell::new(HashMap::new()),
            depth: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn load(&self, name: &str) -> Result<Arc<dyn Renderable>> {
        let name = name.trim_matches(['"', '\'']);
        if let Some(found) = self.parsed.borrow().get(name) {
            return Ok(found.clone());
        }
        let relative = Path::new(name);
        if !relative
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(liquid_core::Error::with_msg(format!(
                "include {name:?} leaves the _includes folder"
            )));
        }
        let path = self.folder.join(relative);
        let text = std::fs::read_to_string(&path).map_err(|err| {
            liquid_core::Error::with_msg(format!("cannot read {}: {err}", path.display()))
        })?;
        let parsed = liquid_core::parser::parse(&text, &self.language)?;
        let template: Arc<dyn Renderable> = Arc::new(Nested {
            template: Template::new(parsed),
            depth: self.depth.clone(),
        });
        self.parsed
            .borrow_mut()
            .insert(name.to_string(), template.clone());
        Ok(template)
    }
}

impl std::fmt::Debug for Includes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Includes({})", self.folder.display())
    }
}

impl PartialStore for Includes {
    fn contains(&self, name: &str) -> bool {
        self.folder.join(name.trim_matches(['"', '\''])).is_file()
    }

    fn names(&self) -> Vec<&str> {
        Vec::new()
    }

    fn try_get(&self, name: &str) -> Option<Arc<dyn Renderable>> {
        self.load(name).ok()
    }

    fn get(&self, name: &str) -> Result<Arc<dyn Renderable>> {
        self.load(name)
    }
}

/// An include's template, refusing to nest past [`MAX_INCLUDE_DEPTH`].
#[derive(Debug)]
struct Nested {
    template: Template,
    depth: Arc<AtomicUsize>,
}

impl Renderable for Nested {
    fn render_to(&self, writer: &mut dyn Write, runtime: &dyn Runtime) -> Result<()> {
        if self.depth.fetch_add(1, Ordering::Relaxed) >= MAX_INCLUDE_DEPTH {
            self.depth.fetch_sub(1, Ordering::Relaxed);
            return Err(liquid_core::Error::with_msg(format!(
                "includes nest more than {MAX_INCLUDE_DEPTH} deep"
            )));
        }
        let result = self.template.render_to(writer, runtime);
        self.depth.fetch_sub(1, Ordering::Relaxed);
        result
    }
}
