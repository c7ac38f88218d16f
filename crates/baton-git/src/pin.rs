//! Pinning every git command to the repository baton means.
//!
//! Without `GIT_DIR`, git finds its repository by walking up from the working directory. A task
//! that deletes its lane's `.git` file (`rm -rf ./* ./.[!.]*`) or rewrites it would make baton's
//! next git command in that lane act on whatever repository contains the lane directory: the
//! user's home directory under version control, or the user's own checkout when `BATON_HOME`
//! lives inside it. So baton never lets git discover anything: each command gets an explicit git
//! directory and work tree, and a linked worktree is used only after its `.git` link was checked
//! to point into this repository's `worktrees/` and back.

use std::path::{Path, PathBuf};

use crate::GitError;

/// The explicit git directory and work tree of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pinned {
    /// `GIT_DIR`.
    pub git_dir: PathBuf,
    /// `GIT_WORK_TREE`.
    pub work_tree: PathBuf,
}

/// The canonical form of a path when it exists, the path itself otherwise.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Pins a command run in `dir`: the main worktree `root` uses the common git directory; any
/// other directory must be the top of a linked worktree of this repository.
pub(crate) fn pin(dir: &Path, root: &Path, common_dir: &Path) -> Result<Pinned, GitError> {
    if dir == root || normalize(dir) == normalize(root) {
        return Ok(Pinned {
            git_dir: common_dir.to_path_buf(),
            work_tree: root.to_path_buf(),
        });
    }
    let git_dir = linked_git_dir(dir, common_dir).map_err(|why| GitError::LaneBroken {
        path: dir.to_path_buf(),
        why,
    })?;
    Ok(Pinned {
        git_dir,
        work_tree: dir.to_path_buf(),
    })
}

/// The administrative directory of the linked worktree at `worktree`, checked both ways: its
/// `.git` file names `<common>/worktrees/<id>`, and that directory's `gitdir` names the
/// worktree's `.git` file. The error says what is wrong, for a person.
pub(crate) fn linked_git_dir(worktree: &Path, common_dir: &Path) -> Result<PathBuf, String> {
    let link = worktree.join(".git");
    let meta = link
        .symlink_metadata()
        .map_err(|_| format!("its .git file is missing ({})", link.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "its .git is not a plain file (a directory or a symbolic link): {}",
            link.display()
        ));
    }
    let text = std::fs::read_to_string(&link)
        .map_err(|error| format!("its .git file cannot be read: {error}"))?;
    let named = text
        .strip_prefix("gitdir:")
        .map(str::trim)
        .filter(|named| !named.is_empty())
        .ok_or_else(|| format!("its .git file does not name a git directory: {text:?}"))?;
    let named = PathBuf::from(named);
    let named = if named.is_absolute() {
        named
    } else {
        worktree.join(named)
    };
    let admin = normalize(&named);
    let worktrees = normalize(&common_dir.join("worktrees"));
    if admin.parent() != Some(worktrees.as_path()) {
        return Err(format!(
            "its .git file points outside this repository's worktrees ({})",
            named.display()
        ));
    }
    let back = std::fs::read_to_string(admin.join("gitdir"))
        .map_err(|_| format!("git has no record of it in {}", admin.display()))?;
    if normalize(Path::new(back.trim())) != normalize(&link) {
        return Err(format!(
            "{} belongs to another worktree ({})",
            admin.display(),
            back.trim()
        ));
    }
    Ok(admin)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let common = tmp.path().join("repo/.git");
        let admin = common.join("worktrees/lane-1");
        let lane = tmp.path().join("lanes/lane-1");
        std::fs::create_dir_all(&admin).unwrap();
        std::fs::create_dir_all(&lane).unwrap();
        std::fs::write(lane.join(".git"), format!("gitdir: {}\n", admin.display())).unwrap();
        std::fs::write(
            admin.join("gitdir"),
            format!("{}\n", lane.join(".git").display()),
        )
        .unwrap();
        (tmp, common, lane)
    }

    #[test]
    fn a_linked_worktree_pointing_both_ways_is_pinned_to_its_admin_dir() {
        let (_tmp, common, lane) = fake_repo();
        let pinned = pin(&lane, common.parent().unwrap(), &common).unwrap();
        assert_eq!(pinned.git_dir, normalize(&common.join("worktrees/lane-1")));
        assert_eq!(pinned.work_tree, lane);
    }

    #[test]
    fn a_missing_git_file_is_a_broken_lane() {
        let (_tmp, common, lane) = fake_repo();
        std::fs::remove_file(lane.join(".git")).unwrap();
        let why = linked_git_dir(&lane, &common).unwrap_err();
        assert!(why.contains("missing"), "{why}");
    }

    #[test]
    fn a_git_file_pointing_at_the_main_repository_is_a_broken_lane() {
        let (_tmp, common, lane) = fake_repo();
        std::fs::write(lane.join(".git"), format!("gitdir: {}\n", common.display())).unwrap();
        let why = linked_git_dir(&lane, &common).unwrap_err();
        assert!(why.contains("outside"), "{why}");
    }

    #[test]
    fn a_git_directory_in_place_of_the_link_is_a_broken_lane() {
        let (_tmp, common, lane) = fake_repo();
        std::fs::remove_file(lane.join(".git")).unwrap();
        std::fs::create_dir(lane.join(".git")).unwrap();
        let why = linked_git_dir(&lane, &common).unwrap_err();
        assert!(why.contains("not a plain file"), "{why}");
    }

    #[test]
    fn an_admin_dir_that_belongs_to_another_worktree_is_refused() {
        let (tmp, common, lane) = fake_repo();
        let other = tmp.path().join("lanes/lane-2");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::copy(lane.join(".git"), other.join(".git")).unwrap();
        let why = linked_git_dir(&other, &common).unwrap_err();
        assert!(why.contains("another worktree"), "{why}");
    }
}
