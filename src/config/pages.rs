//! The address GitHub Pages gives a blog whose `_config.yml` sets no `url`
//! (its `jekyll-github-metadata` fills `site.url` in): the domain in a
//! `CNAME` file beside `_config.yml`, else `https://OWNER.github.io` (with
//! `/REPO` as the base path of a project site) from the git remote
//! `origin`. Reading the two files is the I/O edge; the rest is pure.

use std::path::Path;

/// An address GitHub Pages would serve the blog at, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Pages {
    /// `site.url`, e.g. `https://owner.github.io`.
    pub(super) url: String,
    /// `site.baseurl` of a project site, e.g. `/repo`.
    pub(super) baseurl: Option<String>,
    /// Where it was read, for the warning.
    pub(super) source: String,
}

/// The address of the blog in `root`, if its `CNAME` or git remote says it.
pub(super) fn address(root: &Path) -> Option<Pages> {
    let cname = root.join("CNAME");
    if let Ok(text) = std::fs::read_to_string(&cname)
        && let Some(domain) = domain_of_cname(&text)
    {
        return Some(Pages {
            url: format!("https://{domain}"),
            baseurl: None,
            source: format!(
                "from {}",
                cname.file_name().map_or_else(
                    || cname.display().to_string(),
                    |name| name.to_string_lossy().into_owned()
                )
            ),
        });
    }
    let (config, remote) = origin_of(root)?;
    let (url, baseurl) = pages_of_remote(&remote)?;
    Some(Pages {
        url,
        baseurl,
        source: format!(
            "from the git remote origin {remote} in {}",
            config.display()
        ),
    })
}

/// The domain a `CNAME` file names: its first line, without a scheme or a path.
fn domain_of_cname(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
    let line = line
        .strip_prefix("https://")
        .or_else(|| line.strip_prefix("http://"))
        .unwrap_or(line);
    let domain = line.split('/').next()?.trim().to_ascii_lowercase();
    let valid = !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    valid.then_some(domain)
}

/// The git config file of the repository holding `root`, and its remote
/// `origin`'s URL.
fn origin_of(root: &Path) -> Option<(std::path::PathBuf, String)> {
    let root = std::fs::canonicalize(root).ok()?;
    let git = root
        .ancestors()
        .map(|dir| dir.join(".git"))
        .find(|git| git.exists())?;
    let config = if git.is_dir() {
        git.join("config")
    } else {
        // A worktree: `.git` names its folder, whose `commondir` holds the config.
        let text = std::fs::read_to_string(&git).ok()?;
        let folder = git
            .parent()?
            .join(text.trim().strip_prefix("gitdir:")?.trim());
        match std::fs::read_to_string(folder.join("commondir")) {
            Ok(common) => folder.join(common.trim()).join("config"),
            Err(_) => folder.join("config"),
        }
    };
    let text = std::fs::read_to_string(&config).ok()?;
    let url = origin_url(&text)?;
    Some((config, url))
}

/// `[remote "origin"] url = ...` of a git config file's text.
fn origin_url(text: &str) -> Option<String> {
    let mut in_origin = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_origin = line.replace(char::is_whitespace, "") == "[remote\"origin\"]";
        } else if in_origin
            && let Some((key, value)) = line.split_once('=')
            && key.trim().eq_ignore_ascii_case("url")
        {
            return Some(value.trim().trim_matches('"').to_string());
        }
    }
    None
}

/// GitHub Pages' address for a GitHub remote URL (`git@github.com:o/r.git`,
/// `https://github.com/o/r`, `ssh://git@github.com/o/r.git`): the user site
/// `o.github.io` at its root, any other repository at `/r`.
fn pages_of_remote(remote: &str) -> Option<(String, Option<String>)> {
    let path = remote
        .strip_prefix("git@github.com:")
        .or_else(|| remote.strip_prefix("ssh://git@github.com/"))
        .or_else(|| remote.strip_prefix("https://github.com/"))
        .or_else(|| remote.strip_prefix("http://github.com/"))
        .or_else(|| remote.strip_prefix("git://github.com/"))?;
    let path = path.trim_end_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, repo) = path.split_once('/')?;
    let valid = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    };
    if !valid(owner) || !valid(repo) {
        return None;
    }
    let host = format!("{}.github.io", owner.to_ascii_lowercase());
    let url = format!("https://{host}");
    if repo.eq_ignore_ascii_case(&host) {
        Some((url, None))
    } else {
        Some((url, Some(format!("/{repo}"))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cname_names_the_domain() {
        assert_eq!(domain_of_cname("\nyijia.ws\n").as_deref(), Some("yijia.ws"));
        assert_eq!(
            domain_of_cname("https://Blog.Example.org/\n").as_deref(),
            Some("blog.example.org")
        );
        assert_eq!(domain_of_cname("   \n"), None);
        assert_eq!(domain_of_cname("a b\n"), None);
    }

    #[test]
    fn github_remotes_give_the_pages_address() {
        let user = Some(("https://owner.github.io".to_string(), None));
        assert_eq!(
            pages_of_remote("git@github.com:Owner/owner.github.io.git"),
            user
        );
        assert_eq!(
            pages_of_remote("https://github.com/owner/Owner.GitHub.io"),
            user
        );
        assert_eq!(
            pages_of_remote("ssh://git@github.com/owner/Daily-AI.git"),
            Some((
                "https://owner.github.io".to_string(),
                Some("/Daily-AI".to_string())
            ))
        );
        assert_eq!(pages_of_remote("https://gitlab.com/owner/blog.git"), None);
        assert_eq!(pages_of_remote("git@github.com:owner"), None);
    }

    #[test]
    fn the_origin_of_a_git_config() {
        let text = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/a/b\n[remote \"origin\"]\n\turl = git@github.com:c/d.git\n\tfetch = +refs/heads/*\n";
        assert_eq!(origin_url(text).as_deref(), Some("git@github.com:c/d.git"));
        assert_eq!(origin_url("[core]\n"), None);
    }

    #[test]
    fn reads_the_blog_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(address(dir.path()), None);
        std::fs::create_dir(dir.path().join(".git")).unwrap();
        std::fs::write(
            dir.path().join(".git/config"),
            "[remote \"origin\"]\n\turl = https://github.com/kim/notes.git\n",
        )
        .unwrap();
        let pages = address(dir.path()).unwrap();
        assert_eq!(
            (pages.url.as_str(), pages.baseurl.as_deref()),
            ("https://kim.github.io", Some("/notes"))
        );
        std::fs::write(dir.path().join("CNAME"), "notes.example.org\n").unwrap();
        let pages = address(dir.path()).unwrap();
        assert_eq!(
            (pages.url.as_str(), pages.baseurl),
            ("https://notes.example.org", None)
        );
    }
}
