//! From a template file to a checked [`Template`]: every problem found, each at its line and
//! column.

use super::file::{CriterionFile, PhaseFile, TemplateFile, fields_of};
use super::{
    Criterion, ModelChoice, OnFailure, Phase, Role, TEMPLATE_VERSION, Template, TemplateErrors,
};
use crate::duration::parse_duration;
use crate::plan::diagnostic::{Pos, Report};
use crate::plan::spans::{DocWords, describe_yaml_error_in};
use crate::plan::suggest::hint;
use serde_saphyr::{Location, Spanned};
use std::collections::{BTreeMap, BTreeSet};

const TEMPLATE_WORDS: DocWords = DocWords {
    item_field: "role",
    item: "a phase",
    whole: "the template",
    shape: "a template must be a YAML mapping with version, name and phases",
};

fn pos(location: Location) -> Pos {
    Pos {
        line: u32::try_from(location.line()).unwrap_or(u32::MAX).max(1),
        column: u32::try_from(location.column()).unwrap_or(u32::MAX).max(1),
    }
}

fn at<T>(spanned: &Spanned<T>) -> Pos {
    pos(spanned.referenced)
}

/// Whether `name` is a valid phase, template or output name: `[a-z0-9_-]+`.
fn is_name(name: &str) -> bool {
    crate::plan::is_valid_id(name)
}

/// Parses and checks a template; `origin` is the file name used in messages. Malformed YAML,
/// wrong types and unknown fields stop at the first problem; the rest are all collected.
pub fn parse_template(source: &str, origin: &str) -> Result<Template, TemplateErrors> {
    let mut report = Report::new(origin);
    let file: TemplateFile = match serde_saphyr::from_str(source) {
        Ok(file) => file,
        Err(error) => {
            let (pos, message) = describe_yaml_error_in(&error, source, &TEMPLATE_WORDS);
            report.at(pos, message);
            return Err(report.into_errors());
        }
    };
    let template = check(&file, &mut report);
    match template {
        Some(template) if report.is_empty() => Ok(template),
        _ => Err(report.into_errors()),
    }
}

fn check(file: &TemplateFile, report: &mut Report) -> Option<Template> {
    match &file.version {
        None => report.at(
            Pos::START,
            format!("missing \"version: {TEMPLATE_VERSION}\" at the top of the template"),
        ),
        Some(v) if v.value != TEMPLATE_VERSION => report.at(
            at(v),
            format!(
                "template version {} is not supported; this baton reads version {TEMPLATE_VERSION}",
                v.value
            ),
        ),
        Some(_) => {}
    }
    let name = match &file.name {
        None => {
            report.at(Pos::START, "missing \"name\": give the template a name");
            None
        }
        Some(name) if !is_name(&name.value) => {
            report.at(
                at(name),
                format!(
                    "template name {:?} is not valid: use lowercase letters, digits, - and _",
                    name.value
                ),
            );
            None
        }
        Some(name) => Some(name.value.clone()),
    };
    let on_failure = match &file.on_failure {
        None => OnFailure::Fail,
        Some(word) => match word.value.as_str() {
            "pause" => OnFailure::Pause,
            "fail" => OnFailure::Fail,
            other => {
                report.at(
                    at(word),
                    format!(
                        "on_failure {other:?} is not known{}: write pause (the task waits for a \
                         person) or fail",
                        hint(other, ["pause", "fail"])
                    ),
                );
                OnFailure::Fail
            }
        },
    };
    let pause_on_rejection = match &file.iteration {
        None => false,
        Some(word) => match word.value.as_str() {
            "auto" => false,
            "pause" => true,
            other => {
                report.at(
                    at(word),
                    format!(
                        "iteration {other:?} is not known{}: write auto (a rejected change goes \
                         back to its implementer) or pause (a person reads the review first)",
                        hint(other, ["auto", "pause"])
                    ),
                );
                false
            }
        },
    };
    if let Some(budget) = &file.budget_usd
        && !(budget.value.is_finite() && budget.value > 0.0)
    {
        report.at(
            at(budget),
            "budget_usd must be a positive amount of dollars",
        );
    }
    if let Some(max) = &file.max_iterations
        && max.value == 0
    {
        report.at(
            at(max),
            "max_iterations must be at least 1 (it counts the rejections a task may get)",
        );
    }
    let phases = match &file.phases {
        None => {
            report.at(
                Pos::START,
                "missing \"phases\": list the phases of the pipeline",
            );
            Vec::new()
        }
        Some(list) if list.value.is_empty() => {
            report.at(
                at(list),
                "\"phases\" is empty: list at least one implementer phase",
            );
            Vec::new()
        }
        Some(list) => check_phases(&list.value, report),
    };
    if !phases.is_empty() {
        check_pipeline(&phases, file, report);
    }
    Some(Template {
        name: name?,
        description: file.description.clone().unwrap_or_default(),
        max_iterations: file.max_iterations.as_ref().map(|m| m.value),
        on_failure,
        pause_on_rejection,
        budget_usd: file.budget_usd.as_ref().map(|b| b.value),
        phases,
    })
}

fn text(value: &Option<Spanned<String>>) -> Option<String> {
    value
        .as_ref()
        .map(|v| v.value.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn check_phases(list: &[Spanned<PhaseFile>], report: &mut Report) -> Vec<Phase> {
    let mut phases = Vec::new();
    let mut seen = BTreeSet::new();
    for entry in list {
        let file = &entry.value;
        let here = at(entry);
        let name = match &file.name {
            None => {
                report.at(here, "a phase has no \"name\"");
                continue;
            }
            Some(name) if !is_name(&name.value) => {
                report.at(
                    at(name),
                    format!(
                        "phase name {:?} is not valid: use lowercase letters, digits, - and _",
                        name.value
                    ),
                );
                continue;
            }
            Some(name) if !seen.insert(name.value.clone()) => {
                report.at(
                    at(name),
                    format!(
                        "phase {:?} is named twice; names must be unique",
                        name.value
                    ),
                );
                continue;
            }
            Some(name) => name.value.clone(),
        };
        let role = match &file.role {
            None => {
                report.at(here, format!("phase {name:?} has no \"role\""));
                continue;
            }
            Some(role) => match Role::parse(&role.value) {
                Some(known) => known,
                None => {
                    report.at(
                        at(role),
                        format!(
                            "phase {name:?} has the unknown role {:?}{}; the roles are: {}",
                            role.value,
                            hint(&role.value, Role::ALL.iter().map(|r| r.as_str())),
                            Role::ALL.map(Role::as_str).join(", ")
                        ),
                    );
                    continue;
                }
            },
        };
        if let Some(phase) = check_phase(name, role, file, here, report) {
            phases.push(phase);
        }
    }
    phases
}

fn check_phase(
    name: String,
    role: Role,
    file: &PhaseFile,
    here: Pos,
    report: &mut Report,
) -> Option<Phase> {
    let allowed = fields_of(role);
    for (field, location) in file.written() {
        if !allowed.contains(&field) {
            report.at(
                pos(location),
                format!(
                    "phase {name:?}: \"{field}\" does not apply to role {role} (it takes: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    let scan = match &file.tool {
        None => false,
        Some(tool) if tool.value == "scan" => true,
        Some(tool) => {
            report.at(
                at(tool),
                format!(
                    "phase {name:?}: tool {:?} is not known; the one tool is scan (`baton \
                     scan`, offline)",
                    tool.value
                ),
            );
            false
        }
    };
    if let Some(output) = &file.output
        && !is_name(&output.value)
    {
        report.at(
            at(output),
            format!(
                "phase {name:?}: output {:?} is not a valid name (lowercase letters, digits, - \
                 and _; later prompts read it as artifacts.NAME)",
                output.value
            ),
        );
    }
    let timeout = file.timeout.as_ref().and_then(|timeout| {
        parse_duration(&timeout.value)
            .map_err(|error| report.at(at(timeout), format!("phase {name:?}: timeout: {error}")))
            .ok()
    });
    let mut success = Vec::new();
    for criterion in file.success.iter().flatten() {
        let (run, expect) = match &criterion.value {
            CriterionFile::Command(run) => (run.clone(), None),
            CriterionFile::Full(map) => (map.run.clone(), map.expect.clone()),
        };
        if run.trim().is_empty() {
            report.at(
                at(criterion),
                format!("phase {name:?}: a success command is empty"),
            );
            continue;
        }
        let expect_fail = match expect.as_deref() {
            None | Some("pass") => false,
            Some("fail") => true,
            Some(other) => {
                report.at(
                    at(criterion),
                    format!(
                        "phase {name:?}: expect {other:?} is not known: write pass (exit 0) or \
                         fail (any other exit, the red gate of test-first work)"
                    ),
                );
                false
            }
        };
        success.push(Criterion {
            run: run.trim().to_owned(),
            expect_fail,
        });
    }
    let prompt = text(&file.prompt);
    let run = text(&file.run);
    let fallback = file.fallback.as_ref().and_then(|fallback| {
        let clean = |v: &Option<String>| {
            v.as_ref()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let choice = ModelChoice {
            provider: clean(&fallback.value.provider),
            cli: clean(&fallback.value.cli),
            model: clean(&fallback.value.model),
        };
        let problem = match (&choice.provider, &choice.cli) {
            (None, None) => Some("names no provider nor cli"),
            (Some(_), Some(_)) => Some("names a provider and a cli; keep one"),
            _ => None,
        };
        match problem {
            Some(problem) => {
                report.at(at(fallback), format!("phase {name:?}: fallback {problem}"));
                None
            }
            None => Some(choice),
        }
    });
    match role {
        Role::Analyzer if !scan && prompt.is_none() => report.at(
            here,
            format!("phase {name:?}: an analyzer needs a prompt, or tool: scan"),
        ),
        Role::Analyzer if scan && prompt.is_some() => report.at(
            here,
            format!("phase {name:?}: tool: scan runs no model, so it takes no prompt"),
        ),
        Role::ReviewerCustom if prompt.is_none() => report.at(
            here,
            format!("phase {name:?}: a reviewer_custom phase needs a prompt: its criteria"),
        ),
        Role::Verifier if run.is_none() && success.is_empty() => report.at(
            here,
            format!("phase {name:?}: a verifier needs run: or success: commands to check"),
        ),
        _ => {}
    }
    let names = |list: &Option<Vec<Spanned<String>>>| -> Vec<String> {
        list.iter().flatten().map(|n| n.value.clone()).collect()
    };
    Some(Phase {
        line: here.line,
        column: here.column,
        role,
        agent: text(&file.agent),
        provider: text(&file.provider),
        cli: text(&file.cli),
        model: text(&file.model),
        prompt,
        run,
        scan,
        output: text(&file.output),
        claims: file
            .claims
            .as_ref()
            .map(|c| c.value.clone())
            .unwrap_or_default(),
        can_skip: file.can_skip.as_ref().is_some_and(|c| c.value),
        can_iterate: file.can_iterate.as_ref().is_none_or(|c| c.value),
        max_retries: file.max_retries.as_ref().map(|m| m.value),
        timeout,
        after: names(&file.after),
        parallel_with: names(&file.parallel_with),
        success,
        fallback,
        name,
    })
}

/// The names each phase waits for: its `after`, else the phase before it (unless the two
/// run in parallel, when it waits for what that one waits for).
pub(super) fn waits_for_names(phases: &[Phase]) -> Vec<Vec<String>> {
    let mut waits: Vec<Vec<String>> = Vec::new();
    for (index, phase) in phases.iter().enumerate() {
        let list = if !phase.after.is_empty() {
            phase.after.clone()
        } else if index == 0 {
            Vec::new()
        } else {
            let before = &phases[index - 1];
            let together = phase.parallel_with.contains(&before.name)
                || before.parallel_with.contains(&phase.name);
            if together {
                waits[index - 1].clone()
            } else {
                vec![before.name.clone()]
            }
        };
        waits.push(list);
    }
    waits
}

/// Checks what involves several phases: references, cycles, and what roles go together.
fn check_pipeline(phases: &[Phase], file: &TemplateFile, report: &mut Report) {
    let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
    let spans: BTreeMap<&str, &PhaseFile> = file
        .phases
        .iter()
        .flat_map(|list| list.value.iter())
        .filter_map(|entry| {
            let name = entry.value.name.as_ref()?;
            Some((name.value.as_str(), &entry.value))
        })
        .collect();
    let mut references_ok = true;
    for phase in phases {
        let Some(written) = spans.get(phase.name.as_str()) else {
            continue;
        };
        for (field, list) in [
            ("after", &written.after),
            ("parallel_with", &written.parallel_with),
        ] {
            for other in list.iter().flatten() {
                let problem = if other.value == phase.name {
                    Some(format!("phase {:?} names itself in {field}", phase.name))
                } else if !names.contains(&other.value.as_str()) {
                    Some(format!(
                        "phase {:?}: {field} names {:?}, which is not a phase{}",
                        phase.name,
                        other.value,
                        hint(&other.value, names.iter().copied())
                    ))
                } else {
                    None
                };
                if let Some(problem) = problem {
                    references_ok = false;
                    report.at(at(other), problem);
                }
            }
        }
    }
    if references_ok {
        check_cycles(phases, report);
    }
    check_roles(phases, report);
}

fn phase_pos(phase: &Phase) -> Pos {
    Pos {
        line: phase.line,
        column: phase.column,
    }
}

fn check_cycles(phases: &[Phase], report: &mut Report) {
    let waits = waits_for_names(phases);
    let index: BTreeMap<&str, usize> = phases
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    // 0 unseen, 1 on the path, 2 done.
    let mut state = vec![0u8; phases.len()];
    let mut path: Vec<usize> = Vec::new();
    fn visit(
        node: usize,
        waits: &[Vec<String>],
        index: &BTreeMap<&str, usize>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<usize>> {
        state[node] = 1;
        path.push(node);
        for name in &waits[node] {
            let Some(&next) = index.get(name.as_str()) else {
                continue;
            };
            if state[next] == 1 {
                let start = path.iter().position(|&n| n == next).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(next);
                return Some(cycle);
            }
            if state[next] == 0
                && let Some(cycle) = visit(next, waits, index, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state[node] = 2;
        None
    }
    for start in 0..phases.len() {
        if state[start] == 0
            && let Some(cycle) = visit(start, &waits, &index, &mut state, &mut path)
        {
            let words: Vec<&str> = cycle.iter().map(|&i| phases[i].name.as_str()).collect();
            report.at(
                phase_pos(&phases[cycle[0]]),
                format!(
                    "the phases wait for each other in a cycle: {} (each waits for the next \
                     through after:, or the phase before it); break it",
                    words.join(" -> ")
                ),
            );
            return;
        }
    }
}

fn check_roles(phases: &[Phase], report: &mut Report) {
    let count = |role: Role| phases.iter().filter(|p| p.role == role).count();
    for role in Role::ALL {
        let unique = role != Role::Implementer && role != Role::Analyzer;
        if unique
            && count(role) > 1
            && let Some(second) = phases.iter().filter(|p| p.role == role).nth(1)
        {
            report.at(
                phase_pos(second),
                format!(
                    "phase {:?}: a template has at most one {role} phase",
                    second.name
                ),
            );
        }
    }
    let scans: Vec<&Phase> = phases.iter().filter(|p| p.scan).collect();
    if scans.len() > 1 {
        report.at(phase_pos(scans[1]), "only one analyzer may use tool: scan");
    }
    let planner = phases.iter().find(|p| p.role == Role::Planner);
    if let (Some(scan), Some(planner)) = (scans.first(), planner) {
        report.at(
            phase_pos(planner),
            format!(
                "phase {:?} plans, but phase {:?} already makes the tasks from the scan; keep \
                 one of them",
                planner.name, scan.name
            ),
        );
    }
    let implementers: Vec<&Phase> = phases
        .iter()
        .filter(|p| p.role == Role::Implementer)
        .collect();
    if implementers.is_empty() {
        report.at(
            Pos::START,
            "the template has no implementer phase: nothing would do the work",
        );
    }
    let planned = planner.is_some() || !scans.is_empty();
    for implementer in &implementers {
        let here = phase_pos(implementer);
        if planned {
            if implementers.len() > 1 && implementer.name != implementers[0].name {
                report.at(
                    here,
                    format!(
                        "phase {:?}: with a planner (or tool: scan) the one implementer phase \
                         runs every planned task; merge the implementer phases",
                        implementer.name
                    ),
                );
            }
            if implementer.run.is_some() || !implementer.claims.is_empty() {
                report.at(
                    here,
                    format!(
                        "phase {:?}: run: and claims: come from the plan when a planner (or \
                         tool: scan) makes the tasks; remove them",
                        implementer.name
                    ),
                );
            }
            continue;
        }
        let exec = implementer.agent.as_deref() == Some("exec");
        match (&implementer.prompt, &implementer.run) {
            (Some(_), Some(_)) => report.at(
                here,
                format!(
                    "phase {:?} has both prompt: and run:; an agent gets a prompt, agent: exec \
                     runs a command",
                    implementer.name
                ),
            ),
            (None, None) => report.at(
                here,
                format!(
                    "phase {:?} has neither prompt: (for an agent) nor run: (with agent: exec): \
                     say what the task does",
                    implementer.name
                ),
            ),
            (None, Some(_)) if !exec && implementer.agent.is_some() => report.at(
                here,
                format!(
                    "phase {:?}: run: is for agent: exec; give an AI agent a prompt: instead",
                    implementer.name
                ),
            ),
            (Some(_), None) if exec => report.at(
                here,
                format!(
                    "phase {:?}: agent: exec runs a command: write run: instead of prompt:",
                    implementer.name
                ),
            ),
            _ => {}
        }
    }
    // Reviews of one change run together with one reviewer: they must agree on it.
    let reviewers: Vec<&Phase> = phases
        .iter()
        .filter(|p| p.role.review_kind().is_some())
        .collect();
    for field in ["provider", "cli", "model", "can_iterate", "fallback"] {
        let value = |p: &Phase| match field {
            "provider" => p.provider.clone(),
            "cli" => p.cli.clone(),
            "model" => p.model.clone(),
            "fallback" => p.fallback.as_ref().map(ToString::to_string),
            _ => Some(p.can_iterate.to_string()),
        };
        let mut first: Option<(&Phase, String)> = None;
        for reviewer in &reviewers {
            let Some(this) = value(reviewer) else {
                continue;
            };
            match &first {
                None => first = Some((reviewer, this)),
                Some((earlier, said)) if *said != this => report.at(
                    phase_pos(reviewer),
                    format!(
                        "phase {:?} says {field} {this:?} but phase {:?} says {said:?}: the \
                         reviews of one change run together with one reviewer, so reviewer \
                         phases must agree on {field}",
                        reviewer.name, earlier.name
                    ),
                ),
                Some(_) => {}
            }
        }
    }
}
