//! Which agent runs a task's next attempt, and when it may start.
//!
//! A task that names its agent runs it, unless that agent reached a rate or usage limit in this
//! run or is unhealthy, in which case its `[agents.NAME] fallback` chain takes over. `agent:
//! auto` takes the cheapest (by `cost_hint`, then baton's order) installed, healthy agent that
//! fits the task's capabilities and complexity and has not reached a limit. An agent running
//! as many attempts as its `max_concurrency` makes the task wait for a slot instead.

use crate::config_agents::{AgentConfig, fits};
use crate::context::RunCtx;
use baton_agents::AgentAdapter;
use baton_core::{AgentKind, TaskSpec};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// The order `agent: auto` tries agents in, among those with the same cost hint.
pub(crate) const AUTO_ORDER: &[&str] = &[
    "claude", "codex", "gemini", "qwen", "opencode", "aider", "goose", "cursor",
];

/// The program baton starts for `adapter`: the configured `command`, else its binary.
pub(crate) fn program_of<'a>(
    adapter: &'a dyn AgentAdapter,
    agents: &'a BTreeMap<String, AgentConfig>,
) -> &'a str {
    agents
        .get(adapter.name())
        .and_then(|config| config.command.as_deref())
        .unwrap_or(adapter.binary())
}

/// Whether `program` (a path, or a name looked up on PATH) can be started.
pub(crate) fn installed(program: &str) -> bool {
    if program.contains('/') {
        return std::path::Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|path| baton_agents::detect::find_on_path(program, &path).is_some())
}

/// The agents a choice stays away from, and why.
#[derive(Debug, Default, Clone)]
pub(crate) struct Avoid {
    /// Reached a rate or usage limit in this run.
    pub limited: Vec<String>,
    /// Failed their health check, or had their credentials refused in this run.
    pub unhealthy: Vec<String>,
    /// Running as many attempts as their `max_concurrency` allows.
    pub busy: Vec<String>,
    /// Each agent's track record per task kind, over earlier runs (`baton stats agents`):
    /// among agents of the same cost, `auto` prefers the one that succeeds more often.
    pub records: Arc<crate::stats::TrackRecords>,
}

impl Avoid {
    fn is_limited(&self, name: &str) -> bool {
        self.limited.iter().any(|n| n == name)
    }
    fn is_unhealthy(&self, name: &str) -> bool {
        self.unhealthy.iter().any(|n| n == name)
    }
    fn is_busy(&self, name: &str) -> bool {
        self.busy.iter().any(|n| n == name)
    }
}

/// What the choice says about a task's next attempt.
#[derive(Clone, Copy)]
pub(crate) enum Choice {
    /// Run it with this agent.
    Run(&'static dyn AgentAdapter),
    /// Every agent it may use is busy (this one first): start it when one has a free slot.
    Wait(&'static dyn AgentAdapter),
}

impl std::fmt::Debug for Choice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Choice::Run(adapter) => write!(f, "Run({})", adapter.name()),
            Choice::Wait(adapter) => write!(f, "Wait({})", adapter.name()),
        }
    }
}

impl PartialEq for Choice {
    fn eq(&self, other: &Choice) -> bool {
        match (self, other) {
            (Choice::Run(a), Choice::Run(b)) | (Choice::Wait(a), Choice::Wait(b)) => {
                a.name() == b.name()
            }
            _ => false,
        }
    }
}

/// The agent for a task's next attempt (see the module's documentation). The error says why
/// no agent can take it; it becomes the attempt's failure (or, at intake, a refusal).
pub(crate) fn choose_adapter(
    spec: &TaskSpec,
    avoid: &Avoid,
    agents: &BTreeMap<String, AgentConfig>,
    installed: &dyn Fn(&str) -> bool,
) -> Result<Choice, String> {
    let run_or_wait = |adapter: &'static dyn AgentAdapter| {
        if avoid.is_busy(adapter.name()) {
            Choice::Wait(adapter)
        } else {
            Choice::Run(adapter)
        }
    };
    if spec.agent != AgentKind::Auto {
        let own = baton_agents::adapter(spec.agent.as_str())
            .ok_or_else(|| format!("no adapter for agent {}", spec.agent))?;
        if !avoid.is_limited(own.name()) && !avoid.is_unhealthy(own.name()) {
            return Ok(run_or_wait(own));
        }
        let fallback = agents
            .get(own.name())
            .map(|config| config.fallback.as_slice())
            .unwrap_or_default();
        let usable = fallback
            .iter()
            .filter_map(|name| baton_agents::adapter(name))
            .find(|adapter| {
                !avoid.is_limited(adapter.name())
                    && !avoid.is_unhealthy(adapter.name())
                    && installed(program_of(*adapter, agents))
            });
        return Ok(match usable {
            Some(fallback) => run_or_wait(fallback),
            // No other agent may take it: it waits until the limit lifts.
            None if avoid.is_limited(own.name()) => Choice::Wait(own),
            // Unhealthy with nothing else: the agent itself runs (its error says what is wrong).
            None => run_or_wait(own),
        });
    }
    let fitting: Vec<&'static dyn AgentAdapter> = AUTO_ORDER
        .iter()
        .filter_map(|name| baton_agents::adapter(name))
        .filter(|adapter| installed(program_of(*adapter, agents)))
        .filter(|adapter| {
            fits(
                agents.get(adapter.name()),
                &spec.capabilities,
                spec.complexity,
            )
        })
        .collect();
    let mut candidates: Vec<&'static dyn AgentAdapter> = fitting
        .iter()
        .copied()
        .filter(|adapter| !avoid.is_limited(adapter.name()) && !avoid.is_unhealthy(adapter.name()))
        .collect();
    // Cheapest first; agents without a hint after those with one; then the better track
    // record on this kind of task (an agent without enough attempts counts as even); baton's
    // order otherwise.
    let kind = crate::stats::task_kind(spec);
    let record = |adapter: &dyn AgentAdapter| {
        crate::stats::success_rate(&avoid.records, adapter.name(), &kind).unwrap_or(0.5)
    };
    candidates.sort_by(|a, b| {
        cost_hint(agents, *a)
            .total_cmp(&cost_hint(agents, *b))
            .then_with(|| record(*b).total_cmp(&record(*a)))
    });
    if let Some(free) = candidates.iter().find(|a| !avoid.is_busy(a.name())) {
        return Ok(Choice::Run(*free));
    }
    if let Some(first) = candidates.first() {
        return Ok(Choice::Wait(*first));
    }
    if !fitting.is_empty() {
        let mut why = Vec::new();
        if !avoid.limited.is_empty() {
            why.push(format!(
                "{} reached a rate or usage limit",
                avoid.limited.join(", ")
            ));
        }
        if !avoid.unhealthy.is_empty() {
            why.push(format!(
                "{} failed a health check",
                avoid.unhealthy.join(", ")
            ));
        }
        return Err(format!(
            "agent: auto has no agent left in this run: {}",
            why.join("; ")
        ));
    }
    if spec.capabilities.is_empty() && spec.complexity.is_none() {
        return Err(format!(
            "agent: auto found none of {} installed; install one (see `baton agents`) or name \
             the agent in the plan",
            AUTO_ORDER.join(", ")
        ));
    }
    Err(format!(
        "agent: auto found no installed agent for task {} (capabilities [{}], complexity {}); \
         say what each agent takes in baton.toml: [agents.NAME] capabilities = [...], \
         complexity = [low, high]",
        spec.id,
        spec.capabilities.join(", "),
        spec.complexity
            .map_or_else(|| "any".to_owned(), |c| c.to_string())
    ))
}

fn cost_hint(agents: &BTreeMap<String, AgentConfig>, adapter: &dyn AgentAdapter) -> f64 {
    agents
        .get(adapter.name())
        .and_then(|config| config.cost_hint)
        .unwrap_or(f64::INFINITY)
}

/// How many attempts each agent runs now, shared with the [`AgentSlot`]s.
pub(crate) type AgentSlots = Arc<Mutex<BTreeMap<String, u32>>>;

/// One running attempt's hold on its agent's concurrency; given back when dropped.
pub(crate) struct AgentSlot {
    agent: String,
    slots: AgentSlots,
}

impl Drop for AgentSlot {
    fn drop(&mut self) {
        if let Ok(mut slots) = self.slots.lock()
            && let Some(count) = slots.get_mut(&self.agent)
        {
            *count = count.saturating_sub(1);
        }
    }
}

/// How a task's attempt was dispatched.
pub(crate) enum Dispatch {
    /// An `exec` task: no AI agent.
    Exec,
    /// An AI agent, holding one of its slots until its process ends.
    Agent(&'static dyn AgentAdapter, AgentSlot),
    /// No agent can take it: the attempt fails with this reason.
    Refused(String),
}

impl RunCtx {
    /// The agents a choice must avoid now.
    pub(crate) fn avoid(&self) -> Avoid {
        let keys = |map: &Mutex<BTreeMap<String, Option<String>>>| {
            map.lock()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        // A limit whose time has come is forgotten: the agent may be tried again.
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let limited = self
            .limited
            .lock()
            .map(|mut map| {
                map.retain(|_, until| until.as_str() > now.as_str());
                map.keys().cloned().collect()
            })
            .unwrap_or_default();
        let busy = self
            .agent_slots
            .lock()
            .map(|slots| {
                slots
                    .iter()
                    .filter(|(agent, running)| {
                        self.agents
                            .get(*agent)
                            .and_then(|config| config.max_concurrency)
                            .is_some_and(|max| **running >= max)
                    })
                    .map(|(agent, _)| agent.clone())
                    .collect()
            })
            .unwrap_or_default();
        Avoid {
            limited,
            unhealthy: keys(&self.unhealthy),
            busy,
            records: Arc::clone(&self.track_records),
        }
    }

    /// Chooses the agent of `spec`'s next attempt (`agent`, when a person's approval moved
    /// the task to it) and takes one of its slots; `None` when the task must wait for a slot.
    pub(crate) fn dispatch(&self, spec: &TaskSpec, agent: Option<&str>) -> Option<Dispatch> {
        if !spec.agent.is_ai() {
            return Some(Dispatch::Exec);
        }
        let moved;
        let spec = match agent.and_then(AgentKind::parse).filter(|kind| kind.is_ai()) {
            Some(kind) => {
                moved = TaskSpec {
                    agent: kind,
                    ..spec.clone()
                };
                &moved
            }
            None => spec,
        };
        match choose_adapter(spec, &self.avoid(), &self.agents, &installed) {
            Ok(Choice::Run(adapter)) => Some(Dispatch::Agent(adapter, self.take_slot(adapter))),
            Ok(Choice::Wait(_)) => None,
            Err(why) => Some(Dispatch::Refused(why)),
        }
    }

    /// Takes one of `adapter`'s slots (given back when the slot is dropped).
    pub(crate) fn take_slot(&self, adapter: &dyn AgentAdapter) -> AgentSlot {
        if let Ok(mut slots) = self.agent_slots.lock() {
            *slots.entry(adapter.name().to_owned()).or_default() += 1;
        }
        AgentSlot {
            agent: adapter.name().to_owned(),
            slots: Arc::clone(&self.agent_slots),
        }
    }

    /// Remembers that `agent` is unhealthy (`auto` and fallbacks then avoid it), and says so
    /// once in the event log.
    pub(crate) async fn mark_unhealthy(
        &self,
        agent: &str,
        why: &str,
    ) -> Result<(), crate::EngineError> {
        let first = self
            .unhealthy
            .lock()
            .map(|mut map| map.insert(agent.to_owned(), Some(why.to_owned())).is_none())
            .unwrap_or(false);
        if first {
            self.warn(format!(
                "agent {agent} is unhealthy ({why}); tasks with agent: auto or a fallback use \
                 another agent for the rest of this run"
            ))
            .await?;
        }
        Ok(())
    }

    /// Checks, once at the start of a drive, the health of every installed agent `auto` or a
    /// fallback may choose (`--version` answers within its limit); marks the others unhealthy.
    /// Runs only when the plan has such a choice to make.
    pub(crate) async fn check_agent_health(&self) -> Result<(), crate::EngineError> {
        let chooses = self.plan.tasks.iter().any(|task| {
            task.agent == AgentKind::Auto
                || self
                    .agents
                    .get(task.agent.as_str())
                    .is_some_and(|config| !config.fallback.is_empty())
        });
        if !chooses {
            return Ok(());
        }
        let cwd = self.home.root().to_path_buf();
        let checks = AUTO_ORDER
            .iter()
            .filter_map(|name| baton_agents::adapter(name))
            .filter(|adapter| installed(program_of(*adapter, &self.agents)))
            .map(|adapter| {
                let program = program_of(adapter, &self.agents).to_owned();
                let cwd = cwd.clone();
                async move {
                    let health = baton_agents::detect::check_health(adapter, &program, &cwd).await;
                    (adapter.name(), health)
                }
            });
        for (agent, health) in futures_util::future::join_all(checks).await {
            if let Err(problem) = health {
                self.mark_unhealthy(agent, &problem).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto_task(capabilities: &[&str], complexity: Option<u32>) -> TaskSpec {
        let mut spec = TaskSpec::exec("t", "");
        spec.agent = AgentKind::Auto;
        spec.capabilities = capabilities.iter().map(|c| c.to_string()).collect();
        spec.complexity = complexity;
        spec
    }

    fn config(entries: &[(&str, AgentConfig)]) -> BTreeMap<String, AgentConfig> {
        entries
            .iter()
            .map(|(name, config)| (name.to_string(), config.clone()))
            .collect()
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| n.to_string()).collect()
    }

    fn run(name: &str) -> Result<Choice, String> {
        Ok(Choice::Run(baton_agents::adapter(name).unwrap()))
    }

    #[test]
    fn auto_routes_by_capabilities_and_complexity_and_skips_limited_agents() {
        let agents = config(&[
            (
                "claude",
                AgentConfig {
                    capabilities: vec!["rust".into()],
                    complexity: Some([5, 10]),
                    ..AgentConfig::default()
                },
            ),
            (
                "codex",
                AgentConfig {
                    capabilities: vec!["rust".into()],
                    complexity: Some([1, 4]),
                    ..AgentConfig::default()
                },
            ),
        ]);
        let everything = |_: &str| true;
        let pick =
            |spec: &TaskSpec, avoid: &Avoid| choose_adapter(spec, avoid, &agents, &everything);
        let none = Avoid::default();
        assert_eq!(pick(&auto_task(&["rust"], Some(8)), &none), run("claude"));
        assert_eq!(
            pick(&auto_task(&["rust"], Some(2)), &none),
            run("codex"),
            "cheap for simple"
        );
        assert_eq!(pick(&auto_task(&[], None), &none), run("claude"));
        let limited = Avoid {
            limited: names(&["claude"]),
            ..Avoid::default()
        };
        assert_eq!(pick(&auto_task(&[], None), &limited), run("codex"));
        assert!(
            pick(&auto_task(&["rust"], Some(8)), &limited)
                .unwrap_err()
                .contains("claude reached a rate or usage limit")
        );
        assert!(
            pick(&auto_task(&["go"], None), &none)
                .unwrap_err()
                .contains("capabilities [go]")
        );
    }

    #[test]
    fn among_agents_of_equal_cost_auto_prefers_the_better_track_record_once_it_is_long_enough() {
        let both = || AgentConfig {
            capabilities: vec!["rust".into(), "docs".into()],
            ..AgentConfig::default()
        };
        let agents = config(&[("claude", both()), ("codex", both())]);
        let everything = |_: &str| true;
        let records = |claude: (u32, u32), codex: (u32, u32)| Avoid {
            records: Arc::new(BTreeMap::from([
                (("claude".to_string(), "rust".to_string()), claude),
                (("codex".to_string(), "rust".to_string()), codex),
            ])),
            ..Avoid::default()
        };
        let pick = |avoid: &Avoid, caps: &[&str]| {
            choose_adapter(&auto_task(caps, None), avoid, &agents, &everything)
        };
        // claude fails most rust tasks, codex passes most: codex first on rust work.
        let history = records((10, 2), (10, 9));
        assert_eq!(pick(&history, &["rust"]), run("codex"));
        // Other kinds of task have no record: baton's order.
        assert_eq!(pick(&history, &["docs"]), run("claude"));
        // Too few attempts to say anything: baton's order.
        assert_eq!(pick(&records((4, 0), (4, 4)), &["rust"]), run("claude"));
    }

    #[test]
    fn auto_skips_unhealthy_agents_prefers_cheap_ones_and_waits_when_all_are_busy() {
        let agents = config(&[
            (
                "claude",
                AgentConfig {
                    cost_hint: Some(2.0),
                    ..AgentConfig::default()
                },
            ),
            (
                "gemini",
                AgentConfig {
                    cost_hint: Some(0.2),
                    ..AgentConfig::default()
                },
            ),
        ]);
        let two = |program: &str| program == "claude" || program == "gemini";
        let pick = |avoid: &Avoid| choose_adapter(&auto_task(&[], None), avoid, &agents, &two);
        assert_eq!(pick(&Avoid::default()), run("gemini"), "the cheapest");
        let sick = Avoid {
            unhealthy: names(&["gemini"]),
            ..Avoid::default()
        };
        assert_eq!(pick(&sick), run("claude"));
        let busy = Avoid {
            busy: names(&["gemini"]),
            ..Avoid::default()
        };
        assert_eq!(pick(&busy), run("claude"), "the next free one");
        let all_busy = Avoid {
            busy: names(&["gemini", "claude"]),
            ..Avoid::default()
        };
        assert_eq!(
            pick(&all_busy),
            Ok(Choice::Wait(baton_agents::adapter("gemini").unwrap()))
        );
        let gone = Avoid {
            unhealthy: names(&["gemini", "claude"]),
            ..Avoid::default()
        };
        assert!(pick(&gone).unwrap_err().contains("failed a health check"));
    }

    #[test]
    fn a_named_agent_that_reached_a_limit_hands_over_to_its_configured_fallback() {
        let agents = config(&[(
            "claude",
            AgentConfig {
                fallback: vec!["gemini".into(), "codex".into()],
                ..AgentConfig::default()
            },
        )]);
        let mut spec = TaskSpec::exec("t", "");
        spec.agent = AgentKind::Claude;
        let only_codex = |program: &str| program == "claude" || program == "codex";
        let pick = |avoid: &Avoid| choose_adapter(&spec, avoid, &agents, &only_codex);
        assert_eq!(pick(&Avoid::default()), run("claude"));
        let limited = |list: &[&str]| Avoid {
            limited: names(list),
            ..Avoid::default()
        };
        assert_eq!(
            pick(&limited(&["claude"])),
            run("codex"),
            "gemini is not installed"
        );
        assert_eq!(
            pick(&limited(&["claude", "codex"])),
            Ok(Choice::Wait(baton_agents::adapter("claude").unwrap())),
            "no fallback left: the task waits for the limit to lift"
        );
        let busy = Avoid {
            busy: names(&["claude"]),
            ..Avoid::default()
        };
        assert_eq!(
            pick(&busy),
            Ok(Choice::Wait(baton_agents::adapter("claude").unwrap())),
            "a named agent waits"
        );
    }

    #[test]
    fn a_configured_command_replaces_the_binary() {
        let agents = config(&[(
            "claude",
            AgentConfig {
                command: Some("/opt/claude/bin/claude".into()),
                ..AgentConfig::default()
            },
        )]);
        let claude = baton_agents::adapter("claude").unwrap();
        assert_eq!(program_of(claude, &agents), "/opt/claude/bin/claude");
        let codex = baton_agents::adapter("codex").unwrap();
        assert_eq!(program_of(codex, &agents), "codex");
    }
}
