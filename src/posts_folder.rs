//! Finds the post files in a posts folder and reads them (the I/O edge of `post`).

use std::path::{Path, PathBuf};

use crate::error::{Error, Location, Problem};
use crate::post::{self, Post, Rules};

/// Every post file under `dir`, recursively, in a stable order: `*.md` and
/// `*.markdown`, skipping names that start with `.` or `_`.
pub fn find(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        let entries = std::fs::read_dir(&folder).map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound && folder == dir {
                Error::from(Problem::new(
                    Location::file(dir),
                    "the posts folder does not exist; set [posts] dir in the config or pass --posts DIR",
                ))
            } else {
                Error::io("cannot read folder", &folder, err)
            }
        })?;
        for entry in entries {
            let entry = entry.map_err(|err| Error::io("cannot read folder", &folder, err))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name.starts_with('_') {
                continue;
            }
            let path = entry.path();
            let file_type = entry
                .file_type()
                .map_err(|err| Error::io("cannot read", &path, err))?;
            if file_type.is_dir() || (file_type.is_symlink() && path.is_dir()) {
                pending.push(path);
            } else if name.ends_with(".md") || name.ends_with(".markdown") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads a post file's text, refusing files too large to be a post.
pub fn read(path: &Path) -> Result<String, Problem> {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > post::MAX_POST_BYTES {
        return Err(Problem::new(
            Location::file(path),
            format!(
                "the file is {:.1} MiB, over the {} MiB a post may be; is it really a post?",
                size as f64 / 1048576.0,
                post::MAX_POST_BYTES / 1048576
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|err| {
        Problem::new(Location::file(path), format!("cannot read the file: {err}"))
    })?;
    post::decode(path, &bytes).map(|text| text.into_owned())
}

/// The posts read from a folder, and the problems of those that could not be.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Posts whose front matter is valid.
    pub posts: Vec<Post>,
    /// One or more problems per invalid post.
    pub problems: Vec<Problem>,
    /// How many post files the folder holds, valid or not.
    pub files: usize,
}

/// Reads every post's front matter under `dir`. Bodies are not kept: only
/// the posts an output needs are read again and rendered.
pub fn load(dir: &Path, rules: &Rules) -> Result<Loaded, Error> {
    let paths = find(dir)?;
    let mut loaded = Loaded {
        files: paths.len(),
        ..Loaded::default()
    };
    for path in paths {
        match read(&path)
            .map_err(|problem| vec![problem])
            .and_then(|text| post::parse(&path, &text, rules))
        {
            Ok(post) => loaded.posts.push(post),
            Err(problems) => loaded.problems.extend(problems),
        }
    }
    Ok(loaded)
}

/// Reads every post under `dir` and keeps those readers see at `now`
/// ([`post::published`]): newest first. `problems` holds the invalid posts'
/// problems and those of posts sharing a URL; what to do with them is the
/// caller's (fail, warn, or list them).
pub fn load_published(dir: &Path, rules: &Rules, now: jiff::Timestamp) -> Result<Loaded, Error> {
    let loaded = load(dir, rules)?;
    let (posts, duplicates) = post::published(loaded.posts, now);
    Ok(Loaded {
        posts,
        problems: loaded.problems.into_iter().chain(duplicates).collect(),
        files: loaded.files,
    })
}
