//! Renders a post's email from Tera templates: the HTML part with its CSS
//! inlined, the plain-text part and the subject, rendered once per post and
//! then personalised for each recipient without running the templates again.
//! The weekly roll-up ([`RollupContext`]: several posts in one email) has templates
//! of its own and goes through the same steps.
//!
//! Tera, css-inline and html2text live here and nowhere else.

mod rollup;
mod slots;
mod text_part;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::error::{Location, Problem};
use crate::post::{Paper, Post, Rendered};
use crate::text::one_line;
use slots::{Slotted, Variant};
use text_part::TextCache;

pub use rollup::{RollupContext, Week};
pub use slots::{Field, Piece};

/// The default HTML template, compiled in; `email.templates` may override it.
pub const DEFAULT_HTML: &str = include_str!("../../templates/email.html");
/// The default plain-text template, compiled in; `email.templates` may override it.
pub const DEFAULT_TEXT: &str = include_str!("../../templates/email.txt");
/// The HTML template's file name in `email.templates`.
pub const HTML_FILE: &str = "email.html";
/// The text template's file name in `email.templates`.
pub const TEXT_FILE: &str = "email.txt";

/// Gmail clips a message whose HTML passes this many bytes.
pub const GMAIL_CLIP_BYTES: usize = 102 * 1024;

/// The largest body, as written (after Liquid) and as HTML, that is made
/// into an email: 512 KiB, five times the HTML Gmail shows before it clips.
/// An email costs far more memory to render than its size: html2text's DOM
/// and render tree for the text part take 25 to 400 bytes per byte of HTML
/// (prose at the low end, runs of one-letter emphasis or table cells at the
/// high end), and css-inline's DOM and the styles it writes on every table
/// cell (some 300 bytes each) come on top. At this limit `mail --dry-run`
/// peaks under 30 MB for prose and at 270 MB for the densest post made
/// (docs/src/performance.md); without one the memory grew with the post, to a
/// GB for a 4 MB table.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// `post`'s body (`text` is its file) rendered for its email; refused,
/// naming the file, when the body is over [`MAX_BODY_BYTES`], as written
/// (after Liquid: checked before the Markdown is rendered) or as HTML.
pub fn render_body(post: &Post, text: &str) -> Result<Rendered, Problem> {
    let refuse = |what: &str, bytes: usize| {
        Problem::new(
            Location::file(&post.source),
            format!(
                "{what} {} ({bytes} bytes); an email carries at most 512 KB ({MAX_BODY_BYTES} \
                 bytes), five times the 102 KB of HTML that Gmail shows before it clips, as \
                 rendering one takes up to hundreds of bytes of memory for each byte of HTML. \
                 Shorten the post or split it into several",
                crate::text::size(bytes),
            ),
        )
    };
    let rendered = post.render_checked(text, |body| {
        if body.len() > MAX_BODY_BYTES {
            return Err(refuse("its body is", body.len()));
        }
        Ok(())
    })?;
    if rendered.html.len() > MAX_BODY_BYTES {
        return Err(refuse("its body is HTML of", rendered.html.len()));
    }
    Ok(rendered)
}

/// The `site` the templates see.
#[derive(Debug, Clone, Serialize)]
pub struct SiteContext {
    /// `site.title`.
    pub title: String,
    /// `site.url`, without a trailing slash.
    pub url: String,
    /// `site.description`.
    pub description: String,
    /// `site.language`.
    pub language: String,
    /// `site.author`.
    pub author: String,
}

/// The `post` the templates see.
#[derive(Debug, Clone, Serialize)]
pub struct PostContext {
    /// The title, plain text.
    pub title: String,
    /// The publication day in the site's zone, `YYYY-MM-DD`.
    pub date: String,
    /// The publication instant, RFC 3339 with the site's offset.
    pub date_iso: String,
    /// The post's absolute URL.
    pub url: String,
    /// Tags, as written.
    pub tags: Vec<String>,
    /// Categories, as written.
    pub categories: Vec<String>,
    /// The whole body as sanitized HTML with absolute links.
    pub html: String,
    /// `description`, else the paper titles, else the first paragraph.
    pub summary: String,
    /// What comes before the first paper, as HTML: the intro, images, a
    /// chart. Empty when the post has no papers (`html` holds it all).
    pub intro: String,
    /// The papers, in order; each paper's `html` runs to the next paper,
    /// so intro, papers and outro together are the whole post.
    pub papers: Vec<Paper>,
    /// What comes after the last paper, as HTML: closing words, footnotes.
    pub outro: String,
}

impl PostContext {
    /// The context for `post`, whose body rendered to `rendered`.
    pub fn new(post: &Post, rendered: &Rendered) -> Self {
        PostContext {
            title: post.title.clone(),
            date: post.date.strftime("%Y-%m-%d").to_string(),
            date_iso: crate::post::date::rfc3339(&post.date),
            url: post.url.clone(),
            tags: post.tags.clone(),
            categories: post.categories.clone(),
            html: rendered.html.clone(),
            summary: post.summary(rendered),
            intro: rendered.intro.clone(),
            // The summary is the email's callout: the body shows it no more.
            // What lies between two papers (a heading that ended one) is
            // shown with the one before, so nothing of the post is lost.
            papers: rendered
                .papers
                .iter()
                .map(|paper| Paper {
                    html: without_summary(&paper.html, &paper.summary) + &paper.after,
                    after: String::new(),
                    ..paper.clone()
                })
                .collect(),
            outro: rendered.outro.clone(),
        }
    }
}

/// What one email shows: a post, or a weekly roll-up of several.
#[derive(Debug, Clone)]
pub enum Content {
    /// A post's email (`mail`).
    Post(PostContext),
    /// The weekly roll-up (`mail --weekly`).
    Rollup(RollupContext),
}

/// Who one message is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recipient {
    /// The address.
    pub email: String,
    /// The display name; empty when there is none.
    pub name: String,
    /// The list's unsubscribe token for this address (`[list]`), for
    /// `{{ subscriber.token }}` in `list_unsubscribe`; empty without a list.
    pub token: String,
}

/// One recipient's email, ready to be put into MIME.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// The subject, one line.
    pub subject: String,
    /// The HTML part, CSS inlined.
    pub html: String,
    /// The plain-text part.
    pub text: String,
    /// The `List-Unsubscribe` target for this recipient; empty for none.
    pub unsubscribe_url: String,
}

/// A template's text and where it came from, for messages.
#[derive(Debug, Clone)]
pub struct Source {
    /// The file (or config key) it was read from.
    pub origin: PathBuf,
    /// The template text.
    pub text: String,
}

impl Source {
    /// A template read from a file or a config key.
    pub fn new(origin: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Source {
            origin: origin.into(),
            text: text.into(),
        }
    }
}

/// The four templates of an email, as text.
#[derive(Debug, Clone)]
pub struct TemplateSources {
    /// `email.html`.
    pub html: Source,
    /// `email.txt`.
    pub text: Source,
    /// `email.subject`.
    pub subject: Source,
    /// `email.list_unsubscribe` (a template only when it is `https://`).
    pub list_unsubscribe: Source,
}

impl TemplateSources {
    /// Reads `email.html` and `email.txt` from `folder` where they exist and
    /// takes the built-in default for each that does not.
    pub fn read(folder: &Path, subject: Source, list_unsubscribe: Source) -> Result<Self, Problem> {
        Self::read_named(
            folder,
            [(HTML_FILE, DEFAULT_HTML), (TEXT_FILE, DEFAULT_TEXT)],
            subject,
            list_unsubscribe,
        )
    }

    /// [`TemplateSources::read`] for the HTML and text templates named in
    /// `files` (file name, built-in default), in that order.
    fn read_named(
        folder: &Path,
        [(html_file, html_default), (text_file, text_default)]: [(&str, &str); 2],
        subject: Source,
        list_unsubscribe: Source,
    ) -> Result<Self, Problem> {
        let read = |name: &str, default: &str| -> Result<Source, Problem> {
            let path = folder.join(name);
            match std::fs::read(&path) {
                Ok(bytes) => String::from_utf8(bytes)
                    .map(|text| Source::new(&path, text))
                    .map_err(|_| {
                        Problem::new(
                            Location::file(&path),
                            "the template is not valid UTF-8; save it as UTF-8",
                        )
                    }),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    Ok(Source::new(format!("(built-in {name})"), default))
                }
                Err(err) => Err(Problem::new(
                    Location::file(&path),
                    format!("cannot read the template: {err}"),
                )),
            }
        };
        Ok(TemplateSources {
            html: read(html_file, html_default)?,
            text: read(text_file, text_default)?,
            subject,
            list_unsubscribe,
        })
    }
}

/// The email a config designs: its templates read and compiled, ready for
/// any post. What `mail`, `preview` and `check` start from.
#[derive(Debug)]
pub struct Design {
    templates: Templates,
    sources: TemplateSources,
    /// The weekly roll-up's templates, from the same folder.
    weekly: Templates,
    weekly_sources: TemplateSources,
}

impl Design {
    /// Reads `[email] templates` (built-in defaults for files that are not
    /// there) and compiles them with the config's subject and unsubscribe
    /// target. Lists every problem.
    pub fn load(config: &Config, email: &crate::config::Email) -> Result<Design, Vec<Problem>> {
        let subject = Source::new(&email.subject.origin, email.subject.text.clone());
        let unsubscribe = Source::new(
            &email.list_unsubscribe.origin,
            email.list_unsubscribe.text.clone(),
        );
        let weekly_subject = Source::new(
            &email.weekly_subject.origin,
            email.weekly_subject.text.clone(),
        );
        let weekly_sources = TemplateSources::read_named(
            &email.templates,
            [
                (rollup::HTML_FILE, rollup::DEFAULT_HTML),
                (rollup::TEXT_FILE, rollup::DEFAULT_TEXT),
            ],
            weekly_subject,
            unsubscribe.clone(),
        );
        let sources = TemplateSources::read(&email.templates, subject, unsubscribe);
        let (sources, weekly_sources) = crate::error::both(
            sources.map_err(|p| vec![p]),
            weekly_sources.map_err(|p| vec![p]),
        )?;
        let site = SiteContext {
            title: config.site.title.clone(),
            url: config.site.url.clone(),
            description: config.site.description.clone(),
            language: config.site.language.clone(),
            author: config.site.author.clone(),
        };
        let (templates, weekly) = crate::error::both(
            Templates::compile(&sources, site.clone()),
            Templates::compile_rollup(&weekly_sources, site),
        )?;
        Ok(Design {
            templates,
            sources,
            weekly,
            weekly_sources,
        })
    }

    /// Renders the roll-up of `posts` (each with its rendered body) once
    /// for every recipient owed that same set.
    pub fn prepare_rollup(&self, posts: &[(&Post, &Rendered)]) -> Result<Prepared, Problem> {
        let rollup = RollupContext::new(
            posts
                .iter()
                .map(|(post, rendered)| PostContext::new(post, rendered))
                .collect(),
        );
        self.weekly
            .prepare_content(Content::Rollup(rollup), &self.weekly_sources)
    }

    /// Renders `post`, whose body rendered to `rendered`, once for every recipient.
    pub fn prepare(&self, post: &Post, rendered: &Rendered) -> Result<Prepared, Problem> {
        self.templates
            .prepare(&PostContext::new(post, rendered), &self.sources)
    }

    /// One recipient's email.
    pub fn personalise(
        &self,
        prepared: &Prepared,
        recipient: &Recipient,
    ) -> Result<Email, Problem> {
        match prepared.content {
            Content::Post(_) => self
                .templates
                .personalise(prepared, recipient, &self.sources),
            Content::Rollup(_) => {
                self.weekly
                    .personalise(prepared, recipient, &self.weekly_sources)
            }
        }
    }

    /// `recipient`'s values as the templates of `prepared` print them, for
    /// its [`Template`]: the unsubscribe target rendered for them.
    pub fn values<'r>(
        &self,
        prepared: &Prepared,
        recipient: &'r Recipient,
    ) -> Result<Values<'r>, Problem> {
        let (templates, sources) = match prepared.content {
            Content::Post(_) => (&self.templates, &self.sources),
            Content::Rollup(_) => (&self.weekly, &self.weekly_sources),
        };
        Ok(Values {
            unsubscribe_url: templates.unsubscribe_url(recipient, sources)?,
            recipient,
        })
    }

    /// The HTML part alone of the roll-up of `posts` to `recipient`, as
    /// [`Design::personalise`] makes it: what `preview --weekly` shows.
    pub fn rollup_html(
        &self,
        posts: &[(&Post, &Rendered)],
        recipient: &Recipient,
    ) -> Result<String, Problem> {
        let prepared = self.prepare_rollup(posts)?;
        self.personalise(&prepared, recipient)
            .map(|email| email.html)
    }

    /// The HTML part alone of `post`'s email to `recipient`, as
    /// [`Design::personalise`] makes it: what `preview` shows, without the
    /// text part and the renders that find the recipient's slots.
    pub fn html(
        &self,
        post: &Post,
        rendered: &Rendered,
        recipient: &Recipient,
    ) -> Result<String, Problem> {
        let templates = &self.templates;
        let unsubscribe_url = templates.unsubscribe_url(recipient, &self.sources)?;
        let context = templates.context(
            &Content::Post(PostContext::new(post, rendered)),
            recipient,
            &unsubscribe_url,
        );
        templates.render_html(&context, &self.sources)
    }
}

// The names the templates are registered under; `.html` turns autoescaping on.
const HTML: &str = "email.html";
const TEXT: &str = "email.txt";
const SUBJECT: &str = "subject";
const UNSUBSCRIBE: &str = "list_unsubscribe";

/// Compiled templates, ready to render any post.
pub struct Templates {
    tera: tera::Tera,
    site: SiteContext,
    words: Words,
    inliner: css_inline::CSSInliner<'static>,
    /// The `text` filter's conversions for the post being rendered.
    texts: Arc<TextCache>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").finish_non_exhaustive()
    }
}

impl Templates {
    /// Compiles a post's email templates; every template that does not
    /// compile is a problem.
    pub fn compile(sources: &TemplateSources, site: SiteContext) -> Result<Self, Vec<Problem>> {
        let sample = Content::Post(sample_post(&site.url));
        Self::compile_for(sources, site, &sample)
    }

    /// Compiles the weekly roll-up's templates.
    pub fn compile_rollup(
        sources: &TemplateSources,
        site: SiteContext,
    ) -> Result<Self, Vec<Problem>> {
        let sample = Content::Rollup(RollupContext::sample(&site.url));
        Self::compile_for(sources, site, &sample)
    }

    /// Compiles the templates and renders `sample` with them.
    fn compile_for(
        sources: &TemplateSources,
        site: SiteContext,
        sample: &Content,
    ) -> Result<Self, Vec<Problem>> {
        let mut tera = tera::Tera::new();
        let texts = Arc::new(TextCache::default());
        let cache = Arc::clone(&texts);
        tera.register_filter(
            "text",
            move |html: &str, _: tera::Kwargs, _: &tera::State| cache.text(html),
        );
        tera.register_filter("urlencode", urlencode);
        let mut problems = Vec::new();
        for (name, source) in [
            (HTML, &sources.html),
            (TEXT, &sources.text),
            (SUBJECT, &sources.subject),
            (UNSUBSCRIBE, &sources.list_unsubscribe),
        ] {
            if let Err(err) = tera.add_raw_template(name, &source.text) {
                problems.push(template_problem(&source.origin, &err));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let inliner = css_inline::CSSInliner::options()
            .load_remote_stylesheets(false)
            .keep_style_tags(false)
            .keep_link_tags(false)
            .build();
        let templates = Templates {
            tera,
            words: words(&site.language),
            site,
            inliner,
            texts,
        };
        // Render a sample so that a template naming a variable that does not
        // exist is found by `check`, not halfway through a send.
        let recipient = Recipient {
            email: "reader@example.org".into(),
            name: "Reader".into(),
            token: "TOKEN".into(),
        };
        if let Err(problem) = templates.render_direct(sample, &recipient, sources) {
            return Err(vec![problem]);
        }
        Ok(templates)
    }

    /// Renders `post` once into an email that can be personalised quickly.
    pub fn prepare(
        &self,
        post: &PostContext,
        sources: &TemplateSources,
    ) -> Result<Prepared, Problem> {
        self.prepare_content(Content::Post(post.clone()), sources)
    }

    /// Renders `content` once into an email that can be personalised quickly.
    pub fn prepare_content(
        &self,
        content: Content,
        sources: &TemplateSources,
    ) -> Result<Prepared, Problem> {
        // The last email's conversions are of no use to this one.
        self.texts.clear();
        let with_name = self.slotted(&content, true, sources)?;
        let without_name = self.slotted(&content, false, sources)?;
        Ok(Prepared {
            content,
            with_name,
            without_name,
        })
    }

    /// The email for one recipient: filled into the prepared renders where
    /// the templates allow it, else rendered afresh.
    pub fn personalise(
        &self,
        prepared: &Prepared,
        recipient: &Recipient,
        sources: &TemplateSources,
    ) -> Result<Email, Problem> {
        let slotted = if recipient.name.is_empty() {
            &prepared.without_name
        } else {
            &prepared.with_name
        };
        match slotted {
            Some(parts) => {
                let values = Values {
                    unsubscribe_url: self.unsubscribe_url(recipient, sources)?,
                    recipient,
                };
                let template = Template { parts };
                Ok(Email {
                    subject: template.subject(&values),
                    html: parts.html.fill(|field| values.html(field)),
                    text: parts.text.fill(|field| values.text(field).into()),
                    unsubscribe_url: values.unsubscribe_url,
                })
            }
            None => self.render_direct(&prepared.content, recipient, sources),
        }
    }

    /// Renders every template for one recipient, the slow and sure way.
    fn render_direct(
        &self,
        post: &Content,
        recipient: &Recipient,
        sources: &TemplateSources,
    ) -> Result<Email, Problem> {
        let unsubscribe_url = self.unsubscribe_url(recipient, sources)?;
        let context = self.context(post, recipient, &unsubscribe_url);
        let subject = self.render(SUBJECT, &context, &sources.subject)?;
        let text = self.render(TEXT, &context, &sources.text)?;
        let html = self.render_html(&context, sources)?;
        Ok(Email {
            subject: one_line(&subject),
            html,
            text,
            unsubscribe_url,
        })
    }

    /// The HTML template rendered in `context`, its CSS inlined.
    fn render_html(
        &self,
        context: &tera::Context,
        sources: &TemplateSources,
    ) -> Result<String, Problem> {
        let html = self.render(HTML, context, &sources.html)?;
        self.inline_css(&html, &sources.html)
    }

    /// The subject, HTML and text rendered with placeholders where the
    /// recipient's values go; `None` when the templates do more with those
    /// values than print them (then each recipient is rendered afresh).
    fn slotted(
        &self,
        post: &Content,
        with_name: bool,
        sources: &TemplateSources,
    ) -> Result<Option<SlottedParts>, Problem> {
        let render = |variant: Variant| -> Result<Option<SlottedParts>, Problem> {
            let recipient = Recipient {
                email: slots::placeholder(Field::Email, variant),
                name: if with_name {
                    slots::placeholder(Field::Name, variant)
                } else {
                    String::new()
                },
                token: String::new(),
            };
            let unsubscribe = if sources.list_unsubscribe.text.trim().is_empty() {
                String::new()
            } else {
                slots::placeholder(Field::UnsubscribeUrl, variant)
            };
            let context = self.context(post, &recipient, &unsubscribe);
            let subject = self.render(SUBJECT, &context, &sources.subject)?;
            // The text first: its conversion of the body is the costliest
            // step in memory, best made while no inlined HTML is held.
            let text = self.render(TEXT, &context, &sources.text)?;
            let html = self.render_html(&context, sources)?;
            Ok(
                match (
                    Slotted::parse(subject, variant),
                    Slotted::parse(html, variant),
                    Slotted::parse(text, variant),
                ) {
                    (Some(subject), Some(html), Some(text)) => Some(SlottedParts {
                        subject,
                        html,
                        text,
                    }),
                    _ => None,
                },
            )
        };
        // Two renders with placeholders of different lengths: if the values
        // only pass through, both give the same parts.
        let first = render(Variant::Short)?;
        let second = render(Variant::Long)?;
        Ok(match (first, second) {
            (Some(first), Some(second)) if first == second => Some(first),
            _ => None,
        })
    }

    fn unsubscribe_url(
        &self,
        recipient: &Recipient,
        sources: &TemplateSources,
    ) -> Result<String, Problem> {
        let target = sources.list_unsubscribe.text.trim();
        if target.is_empty() {
            return Ok(String::new());
        }
        // A target without a tag is the same for everyone (the default, the
        // sender's mailto): Tera would print it as it is, for every recipient.
        if !["{{", "{%", "{#"].iter().any(|tag| target.contains(tag)) {
            return Ok(target.to_string());
        }
        let mut context = tera::Context::new();
        context.insert("subscriber", recipient);
        context.insert("site", &self.site);
        self.render(UNSUBSCRIBE, &context, &sources.list_unsubscribe)
            .map(|url| url.trim().to_string())
    }

    fn context(
        &self,
        shown: &Content,
        recipient: &Recipient,
        unsubscribe_url: &str,
    ) -> tera::Context {
        let mut context = tera::Context::new();
        context.insert("site", &self.site);
        context.insert("words", &self.words);
        match shown {
            Content::Post(post) => context.insert("post", post),
            Content::Rollup(rollup) => {
                context.insert("posts", &rollup.posts);
                context.insert("week", &rollup.week);
            }
        }
        context.insert("subscriber", recipient);
        context.insert("unsubscribe_url", unsubscribe_url);
        context
    }

    fn render(
        &self,
        name: &str,
        context: &tera::Context,
        source: &Source,
    ) -> Result<String, Problem> {
        self.tera
            .render(name, context)
            .map_err(|err| template_problem(&source.origin, &err))
    }

    fn inline_css(&self, html: &str, source: &Source) -> Result<String, Problem> {
        self.inliner.inline(html).map_err(|err| {
            Problem::new(
                Location::file(&source.origin),
                format!("cannot inline the template's CSS: {err}"),
            )
        })
    }
}

/// The post `compile` renders to find a template's errors at load.
fn sample_post(site_url: &str) -> PostContext {
    PostContext {
        title: "Sample".into(),
        date: "2025-01-01".into(),
        date_iso: "2025-01-01T00:00:00+00:00".into(),
        url: format!("{site_url}/sample.html"),
        tags: vec!["sample".into()],
        categories: Vec::new(),
        html: "<p>Sample</p>".into(),
        summary: "Sample".into(),
        intro: "<p>Sample</p>".into(),
        papers: vec![Paper {
            number: 1,
            title: "Sample".into(),
            url: "https://example.org/".into(),
            html: "<p>Sample</p>".into(),
            summary: "Sample".into(),
            after: String::new(),
            anchor: None,
        }],
        outro: "<p>Sample</p>".into(),
    }
}

/// A post's email (or a roll-up) rendered once, to be personalised per recipient.
#[derive(Debug, Clone)]
pub struct Prepared {
    content: Content,
    with_name: Option<SlottedParts>,
    without_name: Option<SlottedParts>,
}

impl Prepared {
    /// The post's title as the templates saw it; for a roll-up, what a
    /// run's lines call it (`the week of 2026-11-30 (7 posts)`).
    pub fn title(&self) -> std::borrow::Cow<'_, str> {
        match &self.content {
            Content::Post(post) => post.title.as_str().into(),
            Content::Rollup(rollup) => rollup.label().into(),
        }
    }

    /// Whether recipients are filled in rather than rendered one by one.
    pub fn is_fast(&self) -> bool {
        self.with_name.is_some() && self.without_name.is_some()
    }

    /// The email as text with slots for recipients with a name (or
    /// without): `None` when the templates do more with a recipient's
    /// values than print them, and each recipient is rendered afresh.
    pub fn template(&self, with_name: bool) -> Option<Template<'_>> {
        let parts = if with_name {
            &self.with_name
        } else {
            &self.without_name
        };
        parts.as_ref().map(|parts| Template { parts })
    }
}

/// A prepared email as text with slots where a recipient's values go:
/// what [`Design::personalise`] fills, given to whoever builds the message
/// once for all recipients.
#[derive(Debug, Clone, Copy)]
pub struct Template<'p> {
    parts: &'p SlottedParts,
}

impl<'p> Template<'p> {
    /// The subject with `values` in it, on one line.
    pub fn subject(&self, values: &Values<'_>) -> String {
        one_line(&self.parts.subject.fill(|field| values.text(field).into()))
    }

    /// The plain-text part: fill its slots with [`Values::text`].
    pub fn text(&self) -> impl Iterator<Item = Piece<'p>> {
        self.parts.text.pieces()
    }

    /// The HTML part: fill its slots with [`Values::html`].
    pub fn html(&self) -> impl Iterator<Item = Piece<'p>> {
        self.parts.html.pieces()
    }
}

/// One recipient's values, as a [`Template`]'s slots take them.
#[derive(Debug, Clone)]
pub struct Values<'r> {
    recipient: &'r Recipient,
    /// The `List-Unsubscribe` target for this recipient; empty for none.
    pub unsubscribe_url: String,
}

impl<'r> Values<'r> {
    /// `recipient`'s values, `unsubscribe_url` their unsubscribe target.
    pub fn new(recipient: &'r Recipient, unsubscribe_url: String) -> Values<'r> {
        Values {
            recipient,
            unsubscribe_url,
        }
    }

    /// `field` as the text part and the subject print it.
    pub fn text(&self, field: Field) -> &str {
        match field {
            Field::Email => &self.recipient.email,
            Field::Name => &self.recipient.name,
            Field::UnsubscribeUrl => &self.unsubscribe_url,
        }
    }

    /// `field` as the HTML part prints it: escaped for an attribute.
    pub fn html(&self, field: Field) -> std::borrow::Cow<'_, str> {
        html_escape::encode_quoted_attribute(self.text(field))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SlottedParts {
    subject: Slotted,
    html: Slotted,
    text: Slotted,
}

/// The email's own words, by name, as the templates see them (`words`).
type Words = std::collections::BTreeMap<&'static str, &'static str>;

/// The words of the default templates in `language` (a BCP 47 tag): Korean
/// for `ko`, `ko-KR`…, English otherwise. `{site}` and `{email}` in
/// `you_receive` are filled in by the templates.
fn words(language: &str) -> Words {
    let korean = language
        .split(['-', '_'])
        .next()
        .is_some_and(|primary| primary.eq_ignore_ascii_case("ko"));
    let pairs: [(&str, &str); 12] = if korean {
        [
            ("week_of", "{start} 주간 소식"),
            ("this_week", "이번 주의 글"),
            ("one_post", "글 1편"),
            ("posts_before", "글 "),
            ("posts_after", "편"),
            ("in_this_issue", "이번 호에 실린 논문"),
            ("read_on_the_web", "웹에서 읽기"),
            (
                "you_receive",
                "{email} 주소로 보내 드리는 {site} 소식입니다.",
            ),
            ("unsubscribe", "수신 거부"),
            ("one_paper", "논문 1편"),
            ("papers_before", "논문 "),
            ("papers_after", "편"),
        ]
    } else {
        [
            ("week_of", "The week of {start}"),
            ("this_week", "This week"),
            ("one_post", "1 post"),
            ("posts_before", ""),
            ("posts_after", " posts"),
            ("in_this_issue", "In this issue"),
            ("read_on_the_web", "Read on the web"),
            ("you_receive", "You receive {site} at {email}."),
            ("unsubscribe", "Unsubscribe"),
            ("one_paper", "1 paper"),
            ("papers_before", ""),
            ("papers_after", " papers"),
        ]
    };
    pairs.into_iter().collect()
}

/// A paper's HTML without the block its summary came from (its `Goal:`
/// line, or its first paragraph), which the email shows as a callout: so
/// the summary reads once. Left as it is when the block is not found.
fn without_summary(html: &str, summary: &str) -> String {
    if summary.is_empty() {
        return html.to_string();
    }
    let text = html_escape::encode_text(summary);
    let blocks = [
        format!("<li>Goal: {text}</li>"),
        format!("<p>Goal: {text}</p>"),
        format!("<p>{text}</p>"),
    ];
    let Some((at, len)) = blocks
        .iter()
        .find_map(|block| html.find(block.as_str()).map(|at| (at, block.len())))
    else {
        return html.to_string();
    };
    let mut out = format!("{}{}", &html[..at], &html[at + len..]);
    // A list left empty goes too.
    for empty in ["<ul>\n\n</ul>", "<ul>\n</ul>", "<ul></ul>"] {
        out = out.replacen(empty, "", 1);
    }
    out
}

/// A Tera error as a problem at the template's file and line.
fn template_problem(origin: &Path, err: &tera::Error) -> Problem {
    let report = match err.kind() {
        tera::ErrorKind::SyntaxError(report) | tera::ErrorKind::RenderingError(report) => {
            Some(report)
        }
        _ => None,
    };
    match report {
        Some(report) => Problem::new(
            Location::line(origin, report.span().start_line),
            format!("template: {}", report.message()),
        ),
        None => Problem::new(Location::file(origin), format!("template: {err}")),
    }
}

/// `{{ subscriber.email | urlencode }}`: safe inside a URL's query.
fn urlencode(text: &str, _: tera::Kwargs, _: &tera::State) -> String {
    const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, QUERY).to_string()
}

#[cfg(test)]
mod tests;
