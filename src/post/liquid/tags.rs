//! Liquid's tags and blocks, and Jekyll's: `highlight`, `link`,
//! `post_url`, `include` (from `_includes/`, with parameters), and the
//! stand-in for a plugin's tag digest-feed does not know.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use liquid_core::error::ResultLiquidReplaceExt;
use liquid_core::{
    BlockReflection, Language, ParseBlock, ParseTag, Renderable, Result, Runtime, TagBlock,
    TagReflection, TagTokenIter,
};
use liquid_lib::stdlib;

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

/// The tags that need the post's site: `link`, `post_url`.
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

/// Where Jekyll puts a page or a collection's document that is not a post.
/// A document of `_NAME/` takes its collection's permalink as `_config.yml`
/// gives it (`docs: /:collection/:path/` puts `_docs/history.md` at
/// `/docs/history/`), else Jekyll's default `/:collection/:path:output_ext`;
/// a page (`about.md`) is at `/about.html`.
fn page_path(target: &str, site: &SiteContext) -> String {
    let rules = site.rules.as_ref();
    let base = rules
        .map(|rules| super::split_base(&rules.site_url).1)
        .unwrap_or_default();
    let path = Path::new(target);
    let markup = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("md" | "markdown" | "mkdown" | "mkdn" | "mkd" | "html")
    );
    let output_ext = if markup { ".html" } else { "" };
    let stem = if markup {
        path.with_extension("")
    } else {
        path.to_path_buf()
    };
    let stem = stem.to_string_lossy();
    if let Some((collection, inner)) = stem.strip_prefix('_').and_then(|s| s.split_once('/')) {
        let template = rules
            .and_then(|rules| rules.site.collections.get(collection).cloned())
            .unwrap_or_else(|| "/:collection/:path:output_ext".to_string());
        let name = inner.rsplit('/').next().unwrap_or(inner);
        let url = template
            .replace(":collection", collection)
            .replace(":path", inner)
            .replace(":output_ext", output_ext)
            .replace(":basename", name)
            .replace(":name", name)
            .replace(":title", name);
        let url = if url.starts_with('/') {
            url
        } else {
            format!("/{url}")
        };
        return format!("{base}{}", url.replace("//", "/"));
    }
    format!("{base}/{stem}{output_ext}")
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
/// gives it (`<figure class="highlight"><pre><code ...>`), without the
/// colours. It is written on one line, each line break inside the code as
/// `&#10;` (which HTML reads as the same line break), so that Markdown takes
/// it whole as one HTML block wherever it stands: a blank line of the code
/// would otherwise end an HTML block it lands in (`<details>` ... ) and turn
/// the rest of the code into paragraphs.
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
        let code = html_escape::encode_text(&code).replace('\n', "&#10;");
        let class = if language.is_empty() {
            "plaintext".to_string()
        } else {
            language
        };
        Ok(Box::new(Text(format!(
            "<figure class=\"highlight\"><pre><code class=\"language-{class}\" data-lang=\"{class}\">{code}</code></pre></figure>"
        ))))
    }

    fn reflection(&self) -> &dyn BlockReflection {
        self
    }
}
