//! The semantic problems a plan file can have, each naming the thing, the place and the fix.
use crate::claims::ClaimError;
use crate::duration::DurationError;

/// Why a claim can never match a path git reports as changed (git reports normalised,
/// repository-relative paths, never `.`, `..` or the `.git` directory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum UnmatchableWhy {
    #[error("git never reports a path with a \"./\" segment; write \"{fixed}\"")]
    DotSegment { fixed: String },
    #[error("it has a \"..\" segment; claims are paths inside the repository, such as \"src/**\"")]
    ParentSegment,
    #[error("it names the git directory; baton never lets a task change the git directory")]
    GitDir,
}

/// A value that parses as YAML but makes no valid plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Problem {
    #[error("the plan has no version; add \"version: 1\" as its first line")]
    MissingVersion,
    #[error(
        "plan version {found} is not supported; this build reads version 1, write \"version: 1\""
    )]
    UnsupportedVersion { found: u32 },
    #[error("the plan has no goal; add a line such as goal: \"Split the parser into modules\"")]
    MissingGoal,
    #[error("lanes is 0; it must be at least 1 (the default is 4)")]
    NoLanes,
    #[error(
        "merge: batch is {found}; write \"adaptive\" or a size from 1 (one item per merge-gate \
         run) to 16"
    )]
    BadMergeBatch { found: String },
    #[error(
        "merge: lanes is {found}; write how many batches may be gated at once, from 1 (no \
         speculation) to 8"
    )]
    BadMergeLanes { found: u32 },
    #[error(
        "the plan has no tasks; add at least one under \"tasks:\" with an id and a run command"
    )]
    NoTasks,
    #[error("gate \"{gate}\" has an empty command; write the shell command it runs")]
    EmptyGateCommand { gate: String },
    #[error("task \"{task}\": step {index} is empty; say what the step does, or remove it")]
    EmptyStep { task: String, index: usize },
    #[error(
        "a gate has an empty name; name it with a word such as \"test\" (tasks refer to it by name)"
    )]
    EmptyGateName,
    #[error("merge_gates names \"{gate}\", which is not declared under gates:{hint}")]
    UnknownMergeGate { gate: String, hint: String },
    #[error("task id \"{id}\" may only contain a-z, 0-9, '_' and '-'; try \"{suggestion}\"")]
    BadId { id: String, suggestion: String },
    #[error(
        "task id \"{id}\" must start with a letter or a digit (ids appear in commands and \
         branch names); try \"{suggestion}\""
    )]
    BadIdStart { id: String, suggestion: String },
    #[error(
        "task id \"{id}\" is already used by the task at line {first_line}; rename one of them"
    )]
    DuplicateId { id: String, first_line: u32 },
    #[error(
        "task \"{task}\" uses agent \"{agent}\", which this version does not know{hint}; the known agents are: {known}"
    )]
    UnknownAgent {
        task: String,
        agent: String,
        hint: String,
        known: String,
    },
    #[error("task \"{task}\" has no run command; exec tasks need one, e.g. run: \"make {task}\"")]
    MissingRun { task: String },
    #[error(
        "task \"{task}\" (agent {agent}) has no prompt; write what the agent should do in \
         `prompt:` or point `prompt_file:` at a file"
    )]
    MissingPrompt { task: String, agent: String },
    #[error("task \"{task}\" has both `prompt` and `prompt_file`; keep one")]
    TwoPrompts { task: String },
    #[error(
        "task \"{task}\": `run` is for exec tasks; agent {agent} takes a `prompt` (or drop \
         `agent:` to run the command)"
    )]
    RunForAgent { task: String, agent: String },
    #[error("task \"{task}\": {field} is {value}, but it must be {range}")]
    OutOfRange {
        task: String,
        field: &'static str,
        value: u32,
        range: &'static str,
    },
    #[error("task \"{task}\": {error}")]
    BadClaim { task: String, error: ClaimError },
    #[error("task \"{task}\": claim \"{claim}\" can never match a changed path: {why}")]
    UnmatchableClaim {
        task: String,
        claim: String,
        why: UnmatchableWhy,
    },
    #[error("task \"{task}\" depends on \"{dep}\", which no task defines{hint}")]
    UnknownDep {
        task: String,
        dep: String,
        hint: String,
    },
    #[error("task \"{task}\" depends on itself; remove \"{task}\" from its deps")]
    SelfDep { task: String },
    #[error("tasks depend on each other in a cycle: {cycle}; remove one of these deps")]
    Cycle { cycle: String },
    #[error("task \"{task}\" lists \"{dep}\" in deps twice; keep one")]
    DuplicateDep { task: String, dep: String },
    #[error("task \"{task}\" has priority \"{priority}\"{hint}; use high, medium or low")]
    BadPriority {
        task: String,
        priority: String,
        hint: String,
    },
    #[error("task \"{task}\" has risk \"{risk}\"{hint}; use low, medium or high")]
    BadRisk {
        task: String,
        risk: String,
        hint: String,
    },
    #[error("task \"{task}\" runs gate \"{gate}\", which is not declared under gates:{hint}")]
    UnknownTaskGate {
        task: String,
        gate: String,
        hint: String,
    },
    #[error("task \"{task}\": {field}: {error}")]
    BadDuration {
        task: String,
        field: &'static str,
        error: DurationError,
    },
    #[error("task \"{task}\": {field} is zero; give it a positive duration such as \"10m\"")]
    ZeroDuration { task: String, field: &'static str },
}
