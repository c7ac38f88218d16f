//! An AI agent's attempt: which adapter runs it (`agent: auto` routes), the prompt baton
//! writes for it, its stdout decoded into normalized agent events, and its usage priced into
//! the ledger. The process itself runs like any other (see `supervise.rs`).

use crate::EngineError;
use crate::context::RunCtx;
use baton_agents::{AgentAdapter, AgentInvocation, ExitClass, StreamDecoder};
use baton_core::{AgentKind, Amount, TaskSpec, Tokens, Usd, settle_cost};
use baton_protocol::{AgentEvent, TaskId, UsageTotals};
use baton_store::LedgerEntry;
use std::path::{Path, PathBuf};

/// Longest stdout line of an agent delivered whole: its JSON records can be megabytes.
pub(crate) const AGENT_MAX_LINE: usize = 16 * 1024 * 1024;

/// What baton reads from an agent's stdout while it runs.
pub(crate) struct AgentStream {
    decoder: Box<dyn StreamDecoder>,
    /// The budget watch of the attempt: what it reserved and how its tokens are priced.
    pub live: Option<crate::budget_guard::LiveSpend>,
    /// The events classification and the session need (errors, results, sessions, usage).
    pub kept: Vec<AgentEvent>,
    pub usage: UsageTotals,
}

impl AgentStream {
    /// A stream read with `adapter`'s decoder.
    pub fn new(adapter: &dyn AgentAdapter) -> AgentStream {
        AgentStream {
            decoder: adapter.decoder(),
            live: None,
            kept: Vec::new(),
            usage: UsageTotals::default(),
        }
    }

    /// Decodes one stdout line; returns every event it holds (the caller stores them).
    pub fn feed(&mut self, line: &str) -> Vec<AgentEvent> {
        let events = self.decoder.decode_line(line);
        self.absorb(&events);
        events
    }

    /// What the attempt has spent so far, when that is past its reservation (with the
    /// reservation): the budget guard then checks the limits.
    pub fn overrun(&self, prices: &baton_core::PriceTable) -> Option<(Amount, Amount)> {
        let live = self.live.as_ref()?;
        let tokens = Tokens::from(&self.usage);
        let (cost, _) = settle_cost(
            self.usage.cost_usd_micros.map(Usd),
            self.usage.model.as_deref().or(live.model.as_deref()),
            Some(&tokens),
            prices,
        );
        let spent = Amount {
            usd: cost.unwrap_or(Usd::ZERO),
            tokens: tokens.total(),
        };
        spent
            .exceeds(live.reserved)
            .then_some((live.reserved, spent))
    }

    /// Flushes what the decoder still holds, at the end of the stream.
    pub fn finish(&mut self) -> Vec<AgentEvent> {
        let events = self.decoder.finish();
        self.absorb(&events);
        events
    }

    fn absorb(&mut self, events: &[AgentEvent]) {
        for event in events {
            match event {
                AgentEvent::Usage(usage) => {
                    self.usage.absorb(usage);
                    self.kept.push(event.clone());
                }
                AgentEvent::Error { .. }
                | AgentEvent::Result { .. }
                | AgentEvent::Session { .. } => self.kept.push(event.clone()),
                _ => {}
            }
        }
    }
}

/// The model an attempt of `agent` asks for: the task's (unless the task named another agent
/// and runs on `agent` instead: a fallback, or an approval that moved it), else the configured
/// default.
pub(crate) fn model_of(ctx: &RunCtx, agent: &str, spec: &TaskSpec) -> Option<String> {
    let own = spec.agent == AgentKind::Auto || spec.agent.as_str() == agent;
    spec.model.clone().filter(|_| own).or_else(|| {
        ctx.agents
            .get(agent)
            .and_then(|config| config.model.clone())
    })
}

/// The invocation of `adapter` for one attempt.
#[allow(clippy::too_many_arguments)]
pub(crate) fn invocation(
    ctx: &RunCtx,
    adapter_name: &str,
    spec: &TaskSpec,
    task: &TaskId,
    number: u32,
    lane: &Path,
    prompt: String,
    prompt_file: PathBuf,
    log_file: PathBuf,
) -> AgentInvocation {
    let mut inv = AgentInvocation::new(ctx.id().clone(), task.clone(), number, lane, prompt);
    inv.prompt_file = Some(prompt_file);
    inv.model = model_of(ctx, adapter_name, spec);
    if let Some(config) = ctx.agents.get(adapter_name) {
        inv.program = config.command.clone();
        inv.extra_args = config.args.clone();
        inv.extra_env = config
            .env
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
    }
    inv.max_turns = spec.max_turns;
    inv.timeout = spec.timeout;
    inv.silence = spec.silence;
    inv.log_file = log_file;
    inv.running_as_root = nix::unistd::geteuid().is_root();
    inv
}

/// The session a retry continues: the previous attempt's, when the same agent runs again in
/// the same lane (clients keep sessions per directory), the client can resume, and the
/// previous attempt did not end because its conversation outgrew the context (resuming it
/// would again).
pub(crate) fn session_to_resume(
    previous: Option<&baton_store::AttemptRow>,
    adapter: &dyn AgentAdapter,
    lane: &str,
) -> Option<String> {
    let previous = previous?;
    let session = previous.session_id.as_deref()?;
    let same_agent = previous.agent.as_deref() == Some(adapter.name());
    let outgrew = previous
        .failure
        .as_deref()
        .is_some_and(|why| why.contains(CONTEXT_TOO_LONG));
    (same_agent && previous.lane == lane && !outgrew && adapter.resume_args(session).is_some())
        .then(|| session.to_owned())
}

/// How a conversation that outgrew its model's context is said in a failure.
const CONTEXT_TOO_LONG: &str = "the conversation outgrew the model's context";

/// The kind (`rate` or `usage`) and reset time of a rate or usage limit (`None` inside: no
/// time given); `None` for any other end.
pub(crate) fn limit_of(class: &ExitClass) -> Option<(&'static str, Option<String>)> {
    match class {
        ExitClass::RateLimited { reset_at } => Some(("rate", reset_at.clone())),
        ExitClass::UsageLimited { reset_at } => Some(("usage", reset_at.clone())),
        _ => None,
    }
}

/// Why a finished agent failed, in words, or `None` when it succeeded.
pub(crate) fn exit_failure(class: &ExitClass) -> Option<String> {
    Some(match class {
        ExitClass::Success => return None,
        ExitClass::AgentError => "the agent reported an error".to_owned(),
        ExitClass::AuthFailure => {
            "the agent's credentials are missing or were refused (log in with the client, or set \
             its API key)"
                .to_owned()
        }
        ExitClass::RateLimited { reset_at } => format!(
            "the agent was rate limited{}",
            reset_at
                .as_deref()
                .map(|at| format!(" until {at}"))
                .unwrap_or_default()
        ),
        ExitClass::UsageLimited { reset_at } => format!(
            "the agent reached its usage limit{}",
            reset_at
                .as_deref()
                .map(|at| format!(" (resets {at})"))
                .unwrap_or_default()
        ),
        ExitClass::TurnLimit => "the agent stopped at its turn limit".to_owned(),
        ExitClass::ContextTooLong => CONTEXT_TOO_LONG.to_owned(),
    })
}

/// Writes the attempt's usage to the ledger: the client's own dollars when it reported them,
/// else the price table's for its tokens, else unknown (never zero).
pub(crate) async fn record_usage(
    ctx: &RunCtx,
    task: &TaskId,
    number: u32,
    adapter: &dyn AgentAdapter,
    model: Option<&str>,
    usage: &UsageTotals,
) -> Result<(), EngineError> {
    let tokens = Tokens::from(usage);
    let model = usage.model.clone().or_else(|| model.map(str::to_owned));
    let has_tokens = usage.reports > 0;
    let (cost, basis) = settle_cost(
        usage.cost_usd_micros.map(Usd),
        model.as_deref(),
        has_tokens.then_some(&tokens),
        &ctx.prices,
    );
    let entry = LedgerEntry {
        run_id: ctx.id().clone(),
        task_id: task.clone(),
        attempt: number,
        agent: adapter.name().to_owned(),
        model,
        tokens,
        cost,
        basis,
        price_version: (basis == baton_core::CostBasis::Priced).then(|| ctx.prices.version.clone()),
    };
    ctx.store.record_usage(&entry).await?;
    Ok(())
}

/// Paths under HOME each client keeps its state in (it must write there to run); added to the
/// sandbox for that agent. Entries ending in `/` are directories: baton creates the missing
/// ones first, since the sandbox can only grant what exists (OpenCode exits 1 on a fresh HOME
/// otherwise). Others are files, granted when they exist.
pub(crate) fn state_dirs(agent: &str) -> &'static [&'static str] {
    match agent {
        "claude" | "qwen" => &[".claude/", ".claude.json", ".qwen/", ".config/claude/"],
        "codex" => &[".codex/"],
        "gemini" => &[".gemini/"],
        "opencode" => &[
            ".local/share/opencode/",
            ".config/opencode/",
            ".cache/opencode/",
            ".local/state/opencode/",
        ],
        "aider" => &[".aider/", ".cache/"],
        "goose" => &[
            ".config/goose/",
            ".local/share/goose/",
            ".local/state/goose/",
        ],
        "cursor" => &[".cursor/", ".config/cursor/"],
        _ => &[],
    }
}

/// Files an agent leaves in the lane that never land (Aider's `.aider*` history and tags).
pub(crate) fn remove_state_files(lane: &Path) {
    let Ok(entries) = std::fs::read_dir(lane) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(".aider") {
            let path = entry.path();
            let removed = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            if let Err(error) = removed {
                tracing::warn!("cannot remove {}: {error}", path.display());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failed_exit_class_is_said_in_words() {
        assert_eq!(exit_failure(&ExitClass::Success), None);
        let limited = exit_failure(&ExitClass::UsageLimited {
            reset_at: Some("2026-11-30T03:00:00Z".into()),
        })
        .unwrap();
        assert!(limited.contains("resets 2026-11-30T03:00:00Z"), "{limited}");
        assert!(
            exit_failure(&ExitClass::AuthFailure)
                .unwrap()
                .contains("credentials")
        );
    }
}
