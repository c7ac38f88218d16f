//! Does an answer make sense for this repository? Ids, values in range, deps that resolve and
//! form no cycle, claims that name something in (or next to) the tracked tree, and no two tasks
//! that could run at the same time claiming the same files exclusively.

use super::PlannerProblem;
use crate::claims::{Claim, ClaimSet};
use crate::plan::did_you_mean;
use baton_protocol::{PlannedTask, PlannerAnswer};
use std::collections::{BTreeMap, BTreeSet};

/// Every problem of `answer` against `tree` (the tracked files, repository-relative).
pub fn check_answer(answer: &PlannerAnswer, tree: &[String]) -> Vec<PlannerProblem> {
    let mut problems = Vec::new();
    if answer.tasks.is_empty() {
        problems.push(PlannerProblem::whole(
            "tasks",
            "is empty; a plan needs at least one task",
        ));
        return problems;
    }
    let dirs = directories(tree);
    let mut seen = BTreeSet::new();
    for task in &answer.tasks {
        if !seen.insert(task.id.as_str()) {
            problems.push(PlannerProblem::task(
                &task.id,
                "id",
                "is used by another task too; give each task its own id",
            ));
        }
        check_task(task, tree, &dirs, &mut problems);
    }
    let ids: Vec<&str> = answer.tasks.iter().map(|t| t.id.as_str()).collect();
    for task in &answer.tasks {
        for dep in &task.deps {
            if dep == &task.id {
                problems.push(PlannerProblem::task(
                    &task.id,
                    "deps",
                    "names the task itself; a task cannot wait for itself",
                ));
            } else if !ids.contains(&dep.as_str()) {
                let hint = did_you_mean(dep, ids.iter().copied())
                    .map(|near| format!(" (did you mean {near:?}?)"))
                    .unwrap_or_default();
                problems.push(PlannerProblem::task(
                    &task.id,
                    "deps",
                    format!("names {dep:?}, which no task defines{hint}"),
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(answer) {
        problems.push(PlannerProblem::task(
            &cycle[0],
            "deps",
            format!(
                "the tasks {} depend on each other in a cycle; remove one of these deps",
                cycle.join(" -> ")
            ),
        ));
    } else {
        overlapping_claims(answer, &mut problems);
    }
    problems
}

fn check_task(
    task: &PlannedTask,
    tree: &[String],
    dirs: &BTreeSet<String>,
    problems: &mut Vec<PlannerProblem>,
) {
    let id = task.id.as_str();
    if !crate::plan::is_valid_id(id) {
        problems.push(PlannerProblem::task(
            id,
            "id",
            "must be lower-case letters, digits, '-' and '_' only",
        ));
    }
    if task.prompt.trim().is_empty() {
        problems.push(PlannerProblem::task(
            id,
            "prompt",
            "is empty; say what the agent must do",
        ));
    }
    if !["high", "medium", "low"].contains(&task.priority.as_str()) {
        problems.push(PlannerProblem::task(
            id,
            "priority",
            format!("is {:?}; use high, medium or low", task.priority),
        ));
    }
    if !["low", "medium", "high"].contains(&task.risk.as_str()) {
        problems.push(PlannerProblem::task(
            id,
            "risk",
            format!("is {:?}; use low, medium or high", task.risk),
        ));
    }
    if !(1..=10).contains(&task.complexity) {
        problems.push(PlannerProblem::task(
            id,
            "complexity",
            format!("is {}; use 1 (trivial) to 10", task.complexity),
        ));
    }
    if task.claims.is_empty() {
        problems.push(PlannerProblem::task(
            id,
            "claims",
            "is empty; name the files or globs the task may change",
        ));
    }
    for text in &task.claims {
        if let Some(message) = claim_problem(text, tree, dirs) {
            problems.push(PlannerProblem::task(id, "claims", message));
        }
    }
}

/// What is wrong with one claim, if anything. A claim that matches no tracked file is still
/// accepted when it is for new files: the directory it names exists, or is one new level
/// under an existing directory (`src/auth/**` in a tree with `src/`).
fn claim_problem(text: &str, tree: &[String], dirs: &BTreeSet<String>) -> Option<String> {
    let claim = match Claim::parse(text) {
        Ok(claim) => claim,
        Err(error) => return Some(format!("{text:?} is not a valid claim: {error}")),
    };
    let pattern = claim.glob().pattern();
    if pattern.starts_with('/') || pattern.split('/').any(|segment| segment == "..") {
        return Some(format!(
            "{text:?} must be relative to the repository root, without '..'"
        ));
    }
    if tree.iter().any(|path| claim.glob().is_match(path)) {
        return None;
    }
    let segments: Vec<&str> = pattern.split('/').collect();
    let literal = segments
        .iter()
        .take_while(|s| !s.contains(['*', '?', '[', ']', '{', '}', '\\']))
        .count();
    let dir_len = if literal == segments.len() {
        literal - 1
    } else {
        literal
    };
    let dir = segments[..dir_len].join("/");
    let parent = segments[..dir_len.saturating_sub(1)].join("/");
    if dir.is_empty() || dirs.contains(&dir) || parent.is_empty() || dirs.contains(&parent) {
        return None;
    }
    Some(format!(
        "{text:?} matches nothing in the repository, and its directory {dir:?} is not there \
         either; claim existing files, or new files in an existing directory"
    ))
}

/// Every directory that holds a tracked file, at any depth (`a`, `a/b` for `a/b/c.rs`).
fn directories(tree: &[String]) -> BTreeSet<String> {
    let mut dirs = BTreeSet::new();
    for path in tree {
        let mut end = 0;
        while let Some(slash) = path[end..].find('/') {
            end += slash;
            dirs.insert(path[..end].to_owned());
            end += 1;
        }
    }
    dirs
}

/// One cycle of the deps that resolve, as ids with the first repeated at the end.
fn find_cycle(answer: &PlannerAnswer) -> Option<Vec<String>> {
    let deps: BTreeMap<&str, Vec<&str>> = answer
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.deps.iter().map(String::as_str).collect()))
        .collect();
    // 0 unseen, 1 on the current path, 2 done.
    let mut state: BTreeMap<&str, u8> = BTreeMap::new();
    let mut path: Vec<&str> = Vec::new();
    fn visit<'a>(
        id: &'a str,
        deps: &BTreeMap<&'a str, Vec<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match state.get(id).copied().unwrap_or(0) {
            1 => {
                let start = path.iter().position(|p| *p == id).unwrap_or(0);
                let mut cycle: Vec<String> = path[start..].iter().map(|s| s.to_string()).collect();
                cycle.push(id.to_owned());
                return Some(cycle);
            }
            2 => return None,
            _ => {}
        }
        state.insert(id, 1);
        path.push(id);
        for dep in deps.get(id).into_iter().flatten() {
            if deps.contains_key(dep)
                && let Some(cycle) = visit(dep, deps, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state.insert(id, 2);
        None
    }
    for task in &answer.tasks {
        if let Some(cycle) = visit(&task.id, &deps, &mut state, &mut path) {
            return Some(cycle);
        }
    }
    None
}

/// Tasks that may run at the same time (neither depends on the other, even through others)
/// must not claim the same files exclusively. Call only on an acyclic answer.
fn overlapping_claims(answer: &PlannerAnswer, problems: &mut Vec<PlannerProblem>) {
    let ancestors = ancestors(answer);
    let sets: Vec<Option<ClaimSet>> = answer
        .tasks
        .iter()
        .map(|t| {
            if t.claims.is_empty() {
                None
            } else {
                ClaimSet::parse(&t.claims).ok()
            }
        })
        .collect();
    for (i, a) in answer.tasks.iter().enumerate() {
        for (j, b) in answer.tasks.iter().enumerate().skip(i + 1) {
            let ordered = ancestors
                .get(a.id.as_str())
                .is_some_and(|s| s.contains(b.id.as_str()))
                || ancestors
                    .get(b.id.as_str())
                    .is_some_and(|s| s.contains(a.id.as_str()));
            if ordered || a.id == b.id {
                continue;
            }
            let (Some(Some(left)), Some(Some(right))) = (sets.get(i), sets.get(j)) else {
                continue;
            };
            let pair = left.claims().iter().find_map(|mine| {
                right
                    .claims()
                    .iter()
                    .find(|theirs| mine.conflicts_with(theirs))
                    .map(|theirs| (mine.to_string(), theirs.to_string()))
            });
            if let Some((mine, theirs)) = pair {
                problems.push(PlannerProblem::task(
                    &a.id,
                    "claims",
                    format!(
                        "{mine:?} overlaps {theirs:?} of task {:?}, and neither task depends on \
                         the other, so they could run at the same time; add a dep between \
                         them, split the files, or make both claims shared:",
                        b.id
                    ),
                ));
            }
        }
    }
}

/// Each task's transitive deps.
fn ancestors(answer: &PlannerAnswer) -> BTreeMap<&str, BTreeSet<&str>> {
    let deps: BTreeMap<&str, Vec<&str>> = answer
        .tasks
        .iter()
        .map(|t| (t.id.as_str(), t.deps.iter().map(String::as_str).collect()))
        .collect();
    let mut out: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for task in &answer.tasks {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<&str> = deps.get(task.id.as_str()).cloned().unwrap_or_default();
        while let Some(next) = stack.pop() {
            if seen.insert(next) {
                stack.extend(deps.get(next).into_iter().flatten().copied());
            }
        }
        out.insert(task.id.as_str(), seen);
    }
    out
}
