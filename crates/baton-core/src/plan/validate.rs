//! From schema types to a validated [`Plan`]: defaults, references, ranges and the DAG check.
use super::diagnostic::{Pos, Report};
use super::problem::{Problem, UnmatchableWhy};
use super::spans::{PlanSpans, TaskSpans, item_pos, pos_of};
use super::suggest::hint;
use super::{AgentKind, DEFAULT_LANES, DEFAULT_TIMEOUT, Gate, Plan, Prompt, TaskSpec};
use crate::claims::{Claim, ClaimSet};
use crate::duration::parse_duration;
use baton_protocol::{PLAN_VERSION, PlanFile, Priority, RiskLevel, TaskFile, TaskId};
use std::collections::BTreeMap;
use std::time::Duration;

/// Checks everything about `file`; returns the plan when `report` stays empty.
pub(crate) fn validate(file: &PlanFile, spans: &PlanSpans, report: &mut Report) -> Option<Plan> {
    match file.version {
        None => report.at(Pos::START, Problem::MissingVersion),
        Some(PLAN_VERSION) => {}
        Some(found) => report.at(
            pos_of(spans.version.as_ref(), Pos::START),
            Problem::UnsupportedVersion { found },
        ),
    }
    let goal = file.goal.clone().filter(|goal| !goal.trim().is_empty());
    if goal.is_none() {
        report.at(
            pos_of(spans.goal.as_ref(), Pos::START),
            Problem::MissingGoal,
        );
    }
    let lanes = file.lanes.unwrap_or(DEFAULT_LANES);
    if lanes == 0 {
        report.at(pos_of(spans.lanes.as_ref(), Pos::START), Problem::NoLanes);
    }
    let gates = validate_gates(file, spans, report);
    let (merge_batch, merge_lanes) = validate_merge(file, spans, report);
    if file.tasks.is_empty() {
        report.at(pos_of(spans.tasks.as_ref(), Pos::START), Problem::NoTasks);
    }

    let ids = validate_ids(&file.tasks, spans, report);
    let mut tasks = Vec::new();
    for (index, task) in file.tasks.iter().enumerate() {
        let task_spans = spans.task(index);
        let task_pos = pos_of(task_spans, Pos::START);
        let default_spans = TaskSpans::default();
        let at = task_spans.map(|s| &s.value).unwrap_or(&default_spans);
        let mut checker = TaskChecker {
            task,
            at,
            task_pos,
            report,
        };
        if let Some(spec) = checker.check(&ids, &gates) {
            tasks.push(spec);
        }
    }
    check_cycles(&file.tasks, &ids, spans, report);

    let plan = Plan {
        goal: goal?,
        base: file.base.clone(),
        lanes,
        merge_gates: file
            .merge_gates
            .clone()
            .unwrap_or_else(|| gates.iter().map(|gate| gate.name.clone()).collect()),
        gates,
        tasks,
        approval_threshold: file.approval_threshold_usd.map(|d| crate::Usd(d.0)),
        merge_batch,
        merge_lanes,
    };
    report.is_empty().then_some(plan)
}

/// The `merge:` mapping: a batch policy and a number of merge lanes, each when given.
fn validate_merge(
    file: &PlanFile,
    spans: &PlanSpans,
    report: &mut Report,
) -> (Option<crate::BatchPolicy>, Option<usize>) {
    let Some(merge) = &file.merge else {
        return (None, None);
    };
    let key_pos = |key: &str| {
        let entry = spans
            .merge
            .as_ref()
            .and_then(|m| m.value.as_ref())
            .and_then(|m| m.get(key));
        pos_of(entry, pos_of(spans.merge.as_ref(), Pos::START))
    };
    let batch = match &merge.batch {
        None => None,
        Some(baton_protocol::BatchFile::Word(word)) if word == "adaptive" => {
            Some(crate::BatchPolicy::Adaptive)
        }
        Some(baton_protocol::BatchFile::Size(n))
            if (1..=crate::merge_batch::MAX_BATCH).contains(&(*n as usize)) =>
        {
            Some(crate::BatchPolicy::Fixed(*n as usize))
        }
        Some(other) => {
            let found = match other {
                baton_protocol::BatchFile::Size(n) => n.to_string(),
                baton_protocol::BatchFile::Word(word) => format!("{word:?}"),
            };
            report.at(key_pos("batch"), Problem::BadMergeBatch { found });
            None
        }
    };
    let lanes = match merge.lanes {
        None => None,
        Some(n) if (1..=crate::merge_batch::MAX_MERGE_LANES).contains(&(n as usize)) => {
            Some(n as usize)
        }
        Some(found) => {
            report.at(key_pos("lanes"), Problem::BadMergeLanes { found });
            None
        }
    };
    (batch, lanes)
}

/// Gate declarations and `merge_gates` references.
fn validate_gates(file: &PlanFile, spans: &PlanSpans, report: &mut Report) -> Vec<Gate> {
    let gates_pos = pos_of(spans.gates.as_ref(), Pos::START);
    for gate in &file.gates {
        if gate.name.trim().is_empty() {
            let at = spans
                .gates
                .as_ref()
                .and_then(|map| map.value.as_ref())
                .and_then(|map| map.get(&gate.name));
            report.at(pos_of(at, gates_pos), Problem::EmptyGateName);
        }
        if gate.command.trim().is_empty() {
            let at = spans
                .gates
                .as_ref()
                .and_then(|map| map.value.as_ref())
                .and_then(|map| map.get(&gate.name));
            report.at(
                pos_of(at, gates_pos),
                Problem::EmptyGateCommand {
                    gate: gate.name.clone(),
                },
            );
        }
    }
    let names = || file.gates.iter().map(|gate| gate.name.as_str());
    for (index, name) in file.merge_gates.iter().flatten().enumerate() {
        if !names().any(|known| known == name) {
            report.at(
                item_pos(&spans.merge_gates, index, Pos::START),
                Problem::UnknownMergeGate {
                    gate: name.clone(),
                    hint: hint(name, names()),
                },
            );
        }
    }
    file.gates
        .iter()
        .map(|gate| Gate {
            name: gate.name.clone(),
            command: gate.command.clone(),
            expect_failure: gate.expect_failure,
        })
        .collect()
}

/// Id syntax and uniqueness; returns each id's first task index.
fn validate_ids(
    tasks: &[TaskFile],
    spans: &PlanSpans,
    report: &mut Report,
) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for (index, task) in tasks.iter().enumerate() {
        let id_pos = pos_of(
            spans.task(index).and_then(|s| s.value.id.as_ref()),
            pos_of(spans.task(index), Pos::START),
        );
        if !is_valid_id(&task.id) {
            report.at(
                id_pos,
                Problem::BadId {
                    id: task.id.clone(),
                    suggestion: suggest_id(&task.id),
                },
            );
        } else if !starts_well(&task.id) {
            report.at(
                id_pos,
                Problem::BadIdStart {
                    id: task.id.clone(),
                    suggestion: suggest_id(&task.id),
                },
            );
        }
        if let Some(&first) = ids.get(&task.id) {
            let first_line = pos_of(
                spans.task(first).and_then(|s| s.value.id.as_ref()),
                Pos::START,
            )
            .line;
            report.at(
                id_pos,
                Problem::DuplicateId {
                    id: task.id.clone(),
                    first_line,
                },
            );
        } else {
            ids.insert(task.id.clone(), index);
        }
    }
    ids
}

/// True for `[a-z0-9_-]+`.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// True when `id` starts with a letter or a digit: `-x` or `--help` would read as an option
/// on baton's command line and in git's.
fn starts_well(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
}

/// A valid id close to `id`: lower case, other characters turned into `-`, starting with a
/// letter or a digit.
fn suggest_id(id: &str) -> String {
    let mapped: String = id
        .trim()
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' => c,
            _ => '-',
        })
        .collect();
    let trimmed = mapped.trim_start_matches(['-', '_']).trim_end_matches('-');
    if trimmed.is_empty() {
        "task-1".to_owned()
    } else {
        trimmed.to_owned()
    }
}

/// Why a claim glob can never match a path git reports as changed, if it cannot: git reports
/// normalised repository-relative paths, so a `.` or `..` segment never matches, and nothing
/// under `.git` is ever a change of the tree. `claim` is the text as written (for the fix).
fn unmatchable(pattern: &str, claim: &str) -> Option<UnmatchableWhy> {
    let segments: Vec<&str> = pattern.split('/').collect();
    if segments.contains(&"..") {
        return Some(UnmatchableWhy::ParentSegment);
    }
    if segments.contains(&".git") {
        return Some(UnmatchableWhy::GitDir);
    }
    if segments.contains(&".") {
        let kept: Vec<&str> = segments
            .iter()
            .copied()
            .filter(|s| *s != "." && !s.is_empty())
            .collect();
        let prefix = claim.strip_suffix(pattern).unwrap_or_default();
        let fixed = if kept.is_empty() {
            format!("{prefix}**")
        } else {
            format!("{prefix}{}", kept.join("/"))
        };
        return Some(UnmatchableWhy::DotSegment { fixed });
    }
    None
}

/// Checks one task's own fields and references.
struct TaskChecker<'a> {
    task: &'a TaskFile,
    at: &'a TaskSpans,
    task_pos: Pos,
    report: &'a mut Report,
}

impl TaskChecker<'_> {
    fn check(&mut self, ids: &BTreeMap<String, usize>, gates: &[Gate]) -> Option<TaskSpec> {
        let task = self.task;
        let name = task.id.clone();
        let agent = self.agent();
        let run = task.run.clone().filter(|run| !run.trim().is_empty());
        if run.is_none() && agent == Some(AgentKind::Exec) {
            let pos = pos_of(self.at.run.as_ref(), self.task_pos);
            self.report
                .at(pos, Problem::MissingRun { task: name.clone() });
        }
        let prompt = self.prompt(agent);
        let complexity = self.in_range("complexity", task.complexity, 1, 10, "1 to 10");
        let max_turns = self.in_range("max_turns", task.max_turns, 1, 10_000, "at least 1");
        let mut claims_valid = true;
        for (index, text) in task.claims.iter().enumerate() {
            let pos = item_pos(&self.at.claims, index, self.task_pos);
            match Claim::parse(text) {
                Err(error) => {
                    claims_valid = false;
                    let problem = Problem::BadClaim {
                        task: name.clone(),
                        error,
                    };
                    self.report.at(pos, problem);
                }
                Ok(claim) => {
                    if let Some(why) = unmatchable(claim.glob().pattern(), text) {
                        claims_valid = false;
                        let problem = Problem::UnmatchableClaim {
                            task: name.clone(),
                            claim: text.clone(),
                            why,
                        };
                        self.report.at(pos, problem);
                    }
                }
            }
        }
        let claims = claims_valid
            .then(|| ClaimSet::parse(&task.claims).ok())
            .flatten();
        let deps = self.deps(ids);
        let priority = self.priority();
        let risk = self.risk();
        for (index, gate) in task.gates.iter().enumerate() {
            if !gates.iter().any(|known| &known.name == gate) {
                let pos = item_pos(&self.at.gates, index, self.task_pos);
                let hint = hint(gate, gates.iter().map(|g| g.name.as_str()));
                let problem = Problem::UnknownTaskGate {
                    task: name.clone(),
                    gate: gate.clone(),
                    hint,
                };
                self.report.at(pos, problem);
            }
        }
        let steps = self.steps();
        let estimate = self.duration("estimate", &task.estimate, &self.at.estimate);
        let timeout = self.duration("timeout", &task.timeout, &self.at.timeout);
        let silence = self.duration("silence", &task.silence, &self.at.silence);
        Some(TaskSpec {
            id: TaskId::new(&task.id),
            title: task.title.clone().unwrap_or_else(|| task.id.clone()),
            agent: agent?,
            run: if agent == Some(AgentKind::Exec) {
                run?
            } else {
                String::new()
            },
            prompt: prompt?,
            model: task.model.clone().filter(|m| !m.trim().is_empty()),
            complexity: complexity?,
            capabilities: task.capabilities.clone(),
            max_turns: max_turns?,
            claims: claims?,
            deps,
            priority: priority?,
            estimate: estimate?,
            gates: task.gates.clone(),
            timeout: timeout?.unwrap_or(DEFAULT_TIMEOUT),
            silence: silence?,
            retries: task.retries.unwrap_or(0),
            risk: risk?,
            max_cost: task.max_cost.map(|d| crate::Usd(d.0)),
            steps: steps?,
        })
    }

    /// An AI agent's prompt (from `prompt` or `prompt_file`); `Some(None)` for `exec`.
    fn prompt(&mut self, agent: Option<AgentKind>) -> Option<Option<Prompt>> {
        let task = self.task;
        let Some(agent) = agent.filter(|a| a.is_ai()) else {
            return Some(None);
        };
        if task.run.is_some() {
            let pos = pos_of(self.at.run.as_ref(), self.task_pos);
            let problem = Problem::RunForAgent {
                task: task.id.clone(),
                agent: agent.as_str().to_owned(),
            };
            self.report.at(pos, problem);
            return None;
        }
        let text = task.prompt.clone().filter(|p| !p.trim().is_empty());
        let file = task.prompt_file.clone().filter(|p| !p.trim().is_empty());
        match (text, file) {
            (Some(text), None) => Some(Some(Prompt::Text(text))),
            (None, Some(file)) => Some(Some(Prompt::File(file))),
            (Some(_), Some(_)) => {
                let pos = pos_of(self.at.prompt_file.as_ref(), self.task_pos);
                self.report.at(
                    pos,
                    Problem::TwoPrompts {
                        task: task.id.clone(),
                    },
                );
                None
            }
            (None, None) => {
                let pos = pos_of(self.at.prompt.as_ref(), self.task_pos);
                let problem = Problem::MissingPrompt {
                    task: task.id.clone(),
                    agent: agent.as_str().to_owned(),
                };
                self.report.at(pos, problem);
                None
            }
        }
    }

    /// A number field within `[low, high]`; `Some(None)` when absent.
    fn in_range(
        &mut self,
        field: &'static str,
        value: Option<u32>,
        low: u32,
        high: u32,
        range: &'static str,
    ) -> Option<Option<u32>> {
        match value {
            Some(value) if value < low || value > high => {
                let at = match field {
                    "complexity" => self.at.complexity.as_ref(),
                    _ => self.at.max_turns.as_ref(),
                };
                let problem = Problem::OutOfRange {
                    task: self.task.id.clone(),
                    field,
                    value,
                    range,
                };
                self.report.at(pos_of(at, self.task_pos), problem);
                None
            }
            other => Some(other),
        }
    }

    fn agent(&mut self) -> Option<AgentKind> {
        let Some(text) = &self.task.agent else {
            return Some(AgentKind::Exec);
        };
        let agent = AgentKind::parse(text);
        if agent.is_none() {
            let known = || AgentKind::ALL.iter().map(|kind| kind.as_str());
            let problem = Problem::UnknownAgent {
                task: self.task.id.clone(),
                agent: text.clone(),
                hint: hint(text, known()),
                known: known().collect::<Vec<_>>().join(", "),
            };
            self.report
                .at(pos_of(self.at.agent.as_ref(), self.task_pos), problem);
        }
        agent
    }

    /// `risk:`: `Some(None)` when the plan states none.
    fn risk(&mut self) -> Option<Option<RiskLevel>> {
        let Some(text) = &self.task.risk else {
            return Some(None);
        };
        let risk = RiskLevel::parse(text);
        if risk.is_none() {
            let problem = Problem::BadRisk {
                task: self.task.id.clone(),
                risk: text.clone(),
                hint: hint(text, RiskLevel::ALL.iter().map(|r| r.as_str())),
            };
            self.report
                .at(pos_of(self.at.risk.as_ref(), self.task_pos), problem);
        }
        risk.map(Some)
    }

    /// The steps, each one line of text; an empty one is reported.
    fn steps(&mut self) -> Option<Vec<String>> {
        let mut ok = true;
        for (index, step) in self.task.steps.iter().enumerate() {
            if step.trim().is_empty() {
                ok = false;
                let pos = item_pos(&self.at.steps, index, self.task_pos);
                self.report.at(
                    pos,
                    Problem::EmptyStep {
                        task: self.task.id.clone(),
                        index: index + 1,
                    },
                );
            }
        }
        ok.then(|| {
            self.task
                .steps
                .iter()
                .map(|s| s.trim().to_owned())
                .collect()
        })
    }

    fn priority(&mut self) -> Option<Priority> {
        let Some(text) = &self.task.priority else {
            return Some(Priority::default());
        };
        let priority = Priority::parse(text);
        if priority.is_none() {
            let problem = Problem::BadPriority {
                task: self.task.id.clone(),
                priority: text.clone(),
                hint: hint(text, Priority::ALL.iter().map(|p| p.as_str())),
            };
            self.report
                .at(pos_of(self.at.priority.as_ref(), self.task_pos), problem);
        }
        priority
    }

    /// Known deps; reports unknown ones, self-deps and repeats.
    fn deps(&mut self, ids: &BTreeMap<String, usize>) -> Vec<TaskId> {
        let task = self.task;
        let mut deps: Vec<TaskId> = Vec::new();
        for (index, dep) in task.deps.iter().enumerate() {
            let pos = item_pos(&self.at.deps, index, self.task_pos);
            let name = task.id.clone();
            if dep == &task.id {
                self.report.at(pos, Problem::SelfDep { task: name });
            } else if !ids.contains_key(dep) {
                let hint = hint(dep, ids.keys().map(String::as_str));
                let problem = Problem::UnknownDep {
                    task: name,
                    dep: dep.clone(),
                    hint,
                };
                self.report.at(pos, problem);
            } else if deps.iter().any(|known| known.as_str() == dep) {
                let problem = Problem::DuplicateDep {
                    task: name,
                    dep: dep.clone(),
                };
                self.report.at(pos, problem);
            } else {
                deps.push(TaskId::new(dep));
            }
        }
        deps
    }

    /// `Some(None)` when absent, `Some(Some(d))` when valid, `None` after reporting a problem.
    fn duration(
        &mut self,
        field: &'static str,
        text: &Option<String>,
        at: &Option<serde_saphyr::Spanned<serde::de::IgnoredAny>>,
    ) -> Option<Option<Duration>> {
        let Some(text) = text else {
            return Some(None);
        };
        let pos = pos_of(at.as_ref(), self.task_pos);
        let task = self.task.id.clone();
        match parse_duration(text) {
            Ok(duration) if duration.is_zero() && field != "estimate" => {
                self.report.at(pos, Problem::ZeroDuration { task, field });
                None
            }
            Ok(duration) => Some(Some(duration)),
            Err(error) => {
                self.report
                    .at(pos, Problem::BadDuration { task, field, error });
                None
            }
        }
    }
}

/// Reports each cycle among known, non-self deps at the dep its first-declared task has on it.
fn check_cycles(
    tasks: &[TaskFile],
    ids: &BTreeMap<String, usize>,
    spans: &PlanSpans,
    report: &mut Report,
) {
    let edges: Vec<Vec<(usize, usize)>> = tasks
        .iter()
        .map(|task| {
            task.deps
                .iter()
                .enumerate()
                .filter_map(|(dep_index, dep)| {
                    let target = *ids.get(dep)?;
                    (dep != &task.id).then_some((target, dep_index))
                })
                .collect()
        })
        .collect();
    for cycle in find_cycles(&edges) {
        // cycle = [t0, t1, ..., tk] with t0 -> t1 -> ... -> tk -> t0 (each depends on the next).
        let mut names: Vec<&str> = cycle.iter().map(|&(t, _)| tasks[t].id.as_str()).collect();
        names.push(tasks[cycle[0].0].id.as_str());
        let (first, dep_index) = cycle[0];
        let fallback = pos_of(spans.task(first), Pos::START);
        let pos = match spans.task(first) {
            Some(task) => item_pos(&task.value.deps, dep_index, fallback),
            None => fallback,
        };
        report.at(
            pos,
            Problem::Cycle {
                cycle: names.join(" -> "),
            },
        );
    }
}

/// Elementary cycles found by depth-first search: one per back edge, each as
/// `(task, index of its dep on the next task)`, rotated to start at its first-declared task.
fn find_cycles(edges: &[Vec<(usize, usize)>]) -> Vec<Vec<(usize, usize)>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Color {
        White,
        Gray,
        Black,
    }
    let mut color = vec![Color::White; edges.len()];
    let mut cycles = Vec::new();
    for root in 0..edges.len() {
        if color[root] != Color::White {
            continue;
        }
        // Stack of (node, next edge position); path holds (node, dep index taken).
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        let mut path: Vec<(usize, usize)> = Vec::new();
        color[root] = Color::Gray;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(target, dep_index)) = edges[node].get(*next) {
                *next += 1;
                match color[target] {
                    Color::White => {
                        path.push((node, dep_index));
                        color[target] = Color::Gray;
                        stack.push((target, 0));
                    }
                    Color::Gray => {
                        let start = path.iter().position(|&(n, _)| n == target);
                        let mut cycle: Vec<(usize, usize)> = match start {
                            Some(start) => path[start..].to_vec(),
                            None => Vec::new(),
                        };
                        cycle.push((node, dep_index));
                        let first = cycle
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, (n, _))| *n)
                            .map_or(0, |(i, _)| i);
                        cycle.rotate_left(first);
                        cycles.push(cycle);
                    }
                    Color::Black => {}
                }
            } else {
                color[node] = Color::Black;
                stack.pop();
                path.pop();
            }
        }
    }
    cycles
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_three_cycle_is_found_once_starting_at_its_first_task() {
        // 0 -> 1 -> 2 -> 0 (task 0's first dep is 1, and so on)
        let edges = vec![vec![(1, 0)], vec![(2, 0)], vec![(0, 0)]];
        assert_eq!(find_cycles(&edges), vec![vec![(0, 0), (1, 0), (2, 0)]]);
    }

    #[test]
    fn an_acyclic_graph_has_no_cycles() {
        let edges = vec![vec![], vec![(0, 0)], vec![(0, 0), (1, 1)]];
        assert!(find_cycles(&edges).is_empty());
    }

    #[test]
    fn ids_are_lower_case_words_with_dashes_and_underscores() {
        assert!(is_valid_id("lex-er_2"));
        assert!(!is_valid_id("Lexer"));
        assert!(!is_valid_id("a b"));
        assert!(!is_valid_id(""));
        assert_eq!(suggest_id("Move Lexer!"), "move-lexer");
        assert!(!starts_well("-"));
        assert!(!starts_well("_a"));
        assert!(starts_well("2a"));
        assert_eq!(suggest_id("--help"), "help");
        assert_eq!(suggest_id("_a"), "a");
    }

    #[test]
    fn claims_with_dot_dotdot_or_git_segments_can_never_match() {
        let fix = |fixed: &str| {
            Some(UnmatchableWhy::DotSegment {
                fixed: fixed.into(),
            })
        };
        assert_eq!(unmatchable("./src/**", "./src/**"), fix("src/**"));
        assert_eq!(
            unmatchable("./src/**", "shared:./src/**"),
            fix("shared:src/**")
        );
        assert_eq!(unmatchable("src/./a", "src/./a"), fix("src/a"));
        assert_eq!(unmatchable(".", "."), fix("**"));
        assert_eq!(
            unmatchable("../x", "../x"),
            Some(UnmatchableWhy::ParentSegment)
        );
        assert_eq!(
            unmatchable("**/../**", "**/../**"),
            Some(UnmatchableWhy::ParentSegment)
        );
        assert_eq!(
            unmatchable(".git/**", ".git/**"),
            Some(UnmatchableWhy::GitDir)
        );
        assert_eq!(unmatchable("src/**", "src/**"), None);
        assert_eq!(unmatchable(".github/**", ".github/**"), None);
        assert_eq!(unmatchable("..a/b", "..a/b"), None);
    }
}
