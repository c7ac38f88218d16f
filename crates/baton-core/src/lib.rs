//! What is a plan, and what may run next? The pure logic of baton: plan validation, claims,
//! the task DAG, scheduling decisions, state machines and durations. No I/O, no processes.

pub mod budget;
pub mod claims;
pub mod control;
pub mod council;
pub mod dag;
pub mod duration;
pub mod merge_batch;
pub mod merge_sim;
pub mod overlap;
pub mod plan;
pub mod planner;
pub mod pricing;
pub mod review;
pub mod risk;
pub mod scan;
pub mod schedule;
pub mod simulate;
pub mod state;
pub mod template;
pub mod text;

pub use budget::{
    Amount, BudgetLimit, BudgetPeriod, BudgetScope, BudgetUnit, ENVELOPE_TOKENS, Exceeded,
    LimitUse, WARN_PER_MILLE, admit,
};
pub use claims::{Claim, ClaimError, ClaimGlob, ClaimSet, SHARED_PREFIX};
pub use control::{ControlRefused, revived_with, skipped_with, task_control_target};
pub use council::{CandidateSummary, CouncilVerdict, judge};
pub use dag::{DEFAULT_ESTIMATE, Dag, parallel_efficiency};
pub use duration::{DurationError, format_duration, parse_duration};
pub use merge_batch::{
    BatchPolicy, BatchSizer, DEFAULT_MERGE_LANES, Gated, MAX_BATCH, MAX_MERGE_LANES, MergePlanner,
    Stage, Verdict,
};
pub use merge_sim::{
    QueueSimConfig, QueueSimError, QueueSimFigures, simulate_merge_queue, simulate_queue_of,
};
pub use overlap::globs_may_overlap;
pub use plan::{
    AgentKind, DEFAULT_LANES, DEFAULT_TIMEOUT, Diagnostic, Gate, Plan, PlanErrors, Prompt,
    TaskSpec, did_you_mean, parse_plan, parse_plan_file,
};
pub use pricing::{CostBasis, ModelPrice, PriceTable, Tokens, Usd, settle_cost};
pub use risk::{RiskAssessment, RiskRule, RiskRuleError, RiskRules, default_rules};
pub use schedule::{next_to_start, tasks_to_block};
pub use simulate::{simulate_level_barrier, simulate_list_schedule};
pub use state::{
    InvalidTransition, attempt_is_terminal, attempt_transition, merge_item_is_terminal,
    merge_item_transition, run_is_terminal, run_transition, task_is_done,
    task_is_settled_for_delivery, task_is_terminal, task_transition,
};
