//! What the planner is told: the schema it must answer in (system text) and the repository it
//! plans for (the tracked tree, the README and the manifests, each cut to a budget).

use std::fmt::Write as _;
use std::path::Path;

/// Bytes of the tracked tree listing.
const TREE_BUDGET: usize = 16 * 1024;
/// Bytes of the README.
const README_BUDGET: usize = 8 * 1024;
/// Bytes of each manifest.
const MANIFEST_BUDGET: usize = 4 * 1024;
/// Bytes of every manifest together.
const MANIFESTS_BUDGET: usize = 16 * 1024;
/// Bytes of each file the goal names.
const NAMED_FILE_BUDGET: usize = 6 * 1024;
/// Bytes of every file the goal names together.
const NAMED_FILES_BUDGET: usize = 24 * 1024;

/// Manifests that say what a project is built with, by file name (at any depth).
const MANIFESTS: &[&str] = &[
    "Cargo.toml",
    "package.json",
    "pyproject.toml",
    "go.mod",
    "requirements.txt",
    "setup.py",
    "Gemfile",
    "pom.xml",
    "build.gradle",
    "Makefile",
];

/// The planner's instructions: the schema and its rules.
pub(crate) fn system_prompt() -> String {
    "You are the planner of baton, which runs coding tasks in parallel, each in its own git \
     worktree, and merges the results one at a time. Split the goal into tasks an AI coding \
     agent can each finish alone. Tasks that touch the same files must be ordered by deps; \
     tasks that do not should be independent so they run in parallel.\n\n\
     Answer with ONE JSON object and nothing else, with these keys:\n\
     - summary: one paragraph, what the plan does.\n\
     - tasks: a list of objects with the keys\n\
       id (lower-case letters, digits, - and _; unique), title (short), prompt (what the agent \
       must do, in full), claims (globs of the files the task may change: existing files, or \
       new files in an existing directory; prefix shared: for files several tasks may touch, \
       such as Cargo.lock), deps (ids of tasks that must finish first), priority (high, medium \
       or low), complexity (a whole number, 1 trivial to 10), risk (low, medium or high: the \
       harm a wrong change could do), capabilities (a list such as [\"web\"], may be empty), \
       checks (shell commands that must pass when the task is done), steps (the work in 2 to 7 \
       short steps, in order; its checklist).\n\
     - risks: a list of what could go wrong.\n\
     - open_questions: a list of what a person must decide before the work starts; empty when \
       nothing.\n\
     Rules: no dependency cycles; every dep names a task of the answer; two tasks that may run \
     at the same time (neither depends on the other, directly or not) must not claim the same \
     files unless both claims are shared:."
        .to_owned()
}

/// The first user message: the goal, then the repository.
pub(crate) fn user_prompt(goal: &str, root: &Path, tree: &[String]) -> String {
    let mut text = format!("Goal: {goal}\n\n");
    text.push_str(&repository_overview(root, tree));
    let mut used = 0;
    for path in files_the_goal_names(goal, tree) {
        if used >= NAMED_FILES_BUDGET {
            break;
        }
        let budget = NAMED_FILE_BUDGET.min(NAMED_FILES_BUDGET - used);
        if let Some(body) = read_cut(root, path, budget) {
            used += body.len();
            let _ = write!(text, "\n--- {path} (the goal names it) ---\n{body}\n");
        }
    }
    text.push_str("\nAnswer with the JSON object only.");
    text
}

/// The tracked files the goal touches by name: those whose path, file name or file stem
/// (three letters or more) the goal says as a word, case aside; the README and manifests,
/// shown already, are left out. Shortest paths first.
fn files_the_goal_names<'a>(goal: &str, tree: &'a [String]) -> Vec<&'a String> {
    let goal = goal.to_lowercase();
    let words: std::collections::BTreeSet<&str> = goal
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .filter(|w| w.len() >= 3)
        .collect();
    let mut named: Vec<&String> = tree
        .iter()
        .filter(|path| {
            let name = path.rsplit('/').next().unwrap_or(path);
            let lower = name.to_lowercase();
            let stem = lower.split('.').next().unwrap_or(&lower);
            let shown = MANIFESTS.contains(&name) || lower.starts_with("readme");
            !shown
                && (goal.contains(&path.to_lowercase())
                    || (lower.contains('.') && goal.contains(&lower))
                    || words.contains(stem))
        })
        .collect();
    named.sort_by_key(|p| (p.len(), p.as_str()));
    named
}

/// The repository as a model is shown it: the tracked tree, the README and the manifests,
/// each cut to its budget.
pub(crate) fn repository_overview(root: &Path, tree: &[String]) -> String {
    let mut text = String::new();
    text.push_str("Files git tracks in the repository:\n");
    let mut used = 0;
    for (n, path) in tree.iter().enumerate() {
        if used + path.len() + 1 > TREE_BUDGET {
            let _ = writeln!(text, "... and {} more files", tree.len() - n);
            break;
        }
        used += path.len() + 1;
        text.push_str(path);
        text.push('\n');
    }
    if let Some(readme) = tree
        .iter()
        .find(|p| !p.contains('/') && p.to_ascii_lowercase().starts_with("readme"))
        && let Some(body) = read_cut(root, readme, README_BUDGET)
    {
        let _ = write!(text, "\n--- {readme} ---\n{body}\n");
    }
    let mut manifests_used = 0;
    let mut manifests: Vec<&String> = tree
        .iter()
        .filter(|p| MANIFESTS.contains(&p.rsplit('/').next().unwrap_or(p)))
        .collect();
    // The top-level ones first: they say the most about the project.
    manifests.sort_by_key(|p| (p.matches('/').count(), p.as_str()));
    for path in manifests {
        if manifests_used >= MANIFESTS_BUDGET {
            break;
        }
        let budget = MANIFEST_BUDGET.min(MANIFESTS_BUDGET - manifests_used);
        if let Some(body) = read_cut(root, path, budget) {
            manifests_used += body.len();
            let _ = write!(text, "\n--- {path} ---\n{body}\n");
        }
    }
    text
}

/// The first `budget` bytes of a file (cut at a character boundary, marked when cut); `None`
/// when it cannot be read or is not text.
fn read_cut(root: &Path, path: &str, budget: usize) -> Option<String> {
    let bytes = std::fs::read(root.join(path)).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    if text.len() <= budget {
        return Some(text);
    }
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Some(format!("{}\n[... cut at {budget} bytes]", &text[..end]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_prompt_holds_the_goal_tree_readme_and_manifests_within_budget() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("README.md"), "# Demo\n".repeat(5000)).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            "[package]\nname = \"demo\"\n",
        )
        .unwrap();
        let mut tree: Vec<String> = vec!["README.md".into(), "Cargo.toml".into()];
        tree.extend((0..5000).map(|n| format!("src/module_{n}.rs")));
        let text = user_prompt("Add OAuth", dir.path(), &tree);
        assert!(text.starts_with("Goal: Add OAuth\n"));
        assert!(text.contains("--- Cargo.toml ---\n[package]\nname = \"demo\""));
        assert!(text.contains("[... cut at 8192 bytes]"));
        assert!(text.contains("more files"));
        assert!(text.len() < TREE_BUDGET + README_BUDGET + MANIFESTS_BUDGET + 1024);
    }

    #[test]
    fn the_files_the_goal_names_are_shown_with_the_goal() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/parser.rs"), "fn parse() {}\n").unwrap();
        std::fs::write(dir.path().join("src/lexer.rs"), "fn lex() {}\n").unwrap();
        std::fs::write(dir.path().join("docs.md"), "# Docs\n").unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), "[package]\n").unwrap();
        let tree: Vec<String> = ["Cargo.toml", "docs.md", "src/lexer.rs", "src/parser.rs"]
            .map(String::from)
            .to_vec();
        let text = user_prompt(
            "Make the Parser's errors name the line; see docs.md and Cargo.toml",
            dir.path(),
            &tree,
        );
        assert!(text.contains("--- src/parser.rs (the goal names it) ---\nfn parse() {}"));
        assert!(text.contains("--- docs.md (the goal names it) ---\n# Docs"));
        assert!(!text.contains("fn lex()"), "{text}");
        assert!(!text.contains("Cargo.toml (the goal names it)"), "{text}");
        assert!(text.ends_with("Answer with the JSON object only."));
    }
}
