//! `baton brief`: the day's briefing, as Markdown on stdout (or `--json`), optionally written
//! to a file as well.

use super::{open_engine, print_json, repo_dir};
use crate::{Exit, exit};
use std::io::Write;
use std::path::PathBuf;

/// `baton brief [--markdown FILE] [--since DURATION]`.
pub async fn brief(
    repo: &Option<PathBuf>,
    markdown: Option<PathBuf>,
    since: &str,
    json: bool,
) -> Result<u8, Exit> {
    let bad = |error: String| Exit {
        code: exit::BAD_INPUT,
        error: anyhow::anyhow!(error),
    };
    let window = baton_core::parse_duration(since).map_err(|why| {
        bad(format!(
            "--since {since:?}: {why}; write a duration such as 24h or 3d"
        ))
    })?;
    // The budgets of the repository around the current directory (or --repo), if any.
    let root = baton_git::Git::discover(&repo_dir(repo))
        .await
        .ok()
        .map(|git| git.root().to_path_buf());
    let engine = open_engine().await?;
    let brief = engine
        .brief(root.as_deref(), chrono::Utc::now(), window)
        .await?;
    let text = brief.to_markdown();
    if let Some(path) = &markdown {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let cannot = |error: &dyn std::fmt::Display| {
            bad(format!(
                "cannot write --markdown {}: {error}",
                path.display()
            ))
        };
        let mut temp = tempfile::NamedTempFile::new_in(&dir).map_err(|e| cannot(&e))?;
        temp.write_all(text.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| cannot(&e))?;
        temp.persist(path).map_err(|e| cannot(&e.error))?;
    }
    if json {
        print_json(&brief)?;
    } else {
        print!("{text}");
    }
    Ok(exit::OK)
}
