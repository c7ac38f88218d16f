//! The one list of git's environment variables that must not leak into a command baton starts.

use crate::CommandSpec;

/// Variables that would point git at another repository, index, object store or namespace.
///
/// A user who runs baton from inside a git hook (or a shell with `GIT_DIR` exported) would
/// otherwise have every git command of baton, of its agents and of its gates act on that
/// repository instead of the lane's.
pub const GIT_ENV_VARS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
];

impl CommandSpec {
    /// Removes every variable of [`GIT_ENV_VARS`] from the child's environment (variables set
    /// with [`CommandSpec::env`] still apply on top).
    pub fn without_git_env(mut self) -> Self {
        self.env_remove
            .extend(GIT_ENV_VARS.iter().map(|key| (*key).to_owned()));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scrub_removes_git_dir_and_keeps_what_is_set_explicitly() {
        let spec = CommandSpec::new("git", "/")
            .without_git_env()
            .env("GIT_DIR", "/pinned");
        assert!(spec.env_remove.iter().any(|k| k == "GIT_DIR"));
        assert!(spec.env_remove.iter().any(|k| k == "GIT_WORK_TREE"));
        assert_eq!(spec.env, [("GIT_DIR".to_owned(), "/pinned".to_owned())]);
    }
}
