//! `baton stats agents`: each agent's track record per task kind, over every run in
//! `$BATON_HOME`: attempts, how many passed their gates (and reviews), and what they cost. The
//! same records steer `agent: auto` among agents of equal cost.

use crate::{Engine, EngineError};
use baton_core::{TaskSpec, parse_plan};
use serde::Serialize;
use std::collections::BTreeMap;

/// Attempts an agent needs on a kind of task before its record steers `agent: auto`.
pub const MIN_SAMPLES: u32 = 5;

/// (agent, task kind) -> (attempts, succeeded).
pub(crate) type TrackRecords = BTreeMap<(String, String), (u32, u32)>;

/// One agent's record on one kind of task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentRecord {
    pub agent: String,
    /// The task's first capability, or `general`.
    pub kind: String,
    /// Attempts that ended succeeded or failed (interrupted and stopped ones say nothing).
    pub attempts: u32,
    /// Attempts whose change passed its gates (and reviews).
    pub succeeded: u32,
    /// `succeeded / attempts`.
    pub success_rate: f64,
    /// Whether the record is long enough to steer `agent: auto` ([`MIN_SAMPLES`]).
    pub steers_routing: bool,
    /// Councils (`[escalation] council`) it sat on that reached a verdict.
    pub council_seats: u32,
    /// Councils it won.
    pub council_wins: u32,
    /// `council_wins / council_seats` (`None`: it sat on no council).
    pub win_rate: Option<f64>,
}

/// What kind of task `spec` is, for track records: its first capability, or `general`.
pub(crate) fn task_kind(spec: &TaskSpec) -> String {
    spec.capabilities
        .first()
        .cloned()
        .unwrap_or_else(|| "general".into())
}

/// `agent`'s success rate on tasks of `kind`, once it has [`MIN_SAMPLES`] attempts.
pub(crate) fn success_rate(records: &TrackRecords, agent: &str, kind: &str) -> Option<f64> {
    let (attempts, succeeded) = records.get(&(agent.to_owned(), kind.to_owned()))?;
    (*attempts >= MIN_SAMPLES).then(|| f64::from(*succeeded) / f64::from(*attempts))
}

impl Engine {
    /// Every agent's track record per task kind, over every run, with its council wins.
    pub async fn agent_records(&self) -> Result<Vec<AgentRecord>, EngineError> {
        let kinds = self.task_kinds().await?;
        let kind_of = |run: &baton_protocol::RunId, task: &baton_protocol::TaskId| {
            kinds
                .get(run)
                .and_then(|tasks| tasks.get(task.as_str()))
                .cloned()
                .unwrap_or_else(|| "general".into())
        };
        // (agent, kind) -> (seats, wins)
        let mut councils: BTreeMap<(String, String), (u32, u32)> = BTreeMap::new();
        for (run, task, agent, won) in self.store.council_seats().await? {
            let entry = councils.entry((agent, kind_of(&run, &task))).or_default();
            entry.0 += 1;
            entry.1 += u32::from(won);
        }
        let mut records = self.track_records().await?;
        for key in councils.keys() {
            records.entry(key.clone()).or_default();
        }
        Ok(records
            .into_iter()
            .map(|((agent, kind), (attempts, succeeded))| {
                let (seats, wins) = councils
                    .get(&(agent.clone(), kind.clone()))
                    .copied()
                    .unwrap_or_default();
                AgentRecord {
                    agent,
                    kind,
                    attempts,
                    succeeded,
                    success_rate: if attempts == 0 {
                        0.0
                    } else {
                        f64::from(succeeded) / f64::from(attempts)
                    },
                    steers_routing: attempts >= MIN_SAMPLES,
                    council_seats: seats,
                    council_wins: wins,
                    win_rate: (seats > 0).then(|| f64::from(wins) / f64::from(seats)),
                }
            })
            .collect())
    }

    /// Each run's task kinds: run -> task -> kind.
    async fn task_kinds(
        &self,
    ) -> Result<BTreeMap<baton_protocol::RunId, BTreeMap<String, String>>, EngineError> {
        let mut kinds = BTreeMap::new();
        for run in self.store.runs().await? {
            let Ok(plan) = parse_plan(&run.plan_source, &run.plan_origin) else {
                continue;
            };
            let of_run = plan
                .tasks
                .iter()
                .map(|spec| (spec.id.to_string(), task_kind(spec)))
                .collect();
            kinds.insert(run.id.clone(), of_run);
        }
        Ok(kinds)
    }

    /// The raw records, as routing reads them.
    pub(crate) async fn track_records(&self) -> Result<TrackRecords, EngineError> {
        let kinds = self.task_kinds().await?;
        let mut records = TrackRecords::new();
        for (run, task, agent, succeeded) in self.store.agent_outcomes().await? {
            let kind = kinds
                .get(&run)
                .and_then(|tasks| tasks.get(task.as_str()))
                .cloned()
                .unwrap_or_else(|| "general".into());
            let entry = records.entry((agent, kind)).or_default();
            entry.0 += 1;
            entry.1 += u32::from(succeeded);
        }
        Ok(records)
    }
}
