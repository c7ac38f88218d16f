//! What an agent did, in one vocabulary for every agent CLI. Each adapter in `baton-agents`
//! turns its client's output (stream-json, `exec --json`, text) into these events.

use serde::{Deserialize, Serialize};

/// The version of the agent event schema written by this build. Bumped when a variant changes
/// shape.
pub const AGENT_EVENT_VERSION: u32 = 1;

/// One thing an agent reported while it worked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// Text the agent addressed to the user (a complete message, never a fragment).
    Message {
        /// The message text.
        text: String,
    },
    /// A summary of the model's reasoning, when the client shows one.
    Reasoning {
        /// The summary text.
        summary: String,
    },
    /// The agent asked for a tool to run.
    ToolCall {
        /// The client's id of the call; its [`AgentEvent::ToolResult`] carries the same id.
        id: String,
        /// The tool's name as the client names it (`Write`, `write_file`, `edit`, ...).
        name: String,
        /// The tool's arguments as the client sent them.
        input: serde_json::Value,
    },
    /// A tool finished.
    ToolResult {
        /// The id of the [`AgentEvent::ToolCall`] it answers.
        id: String,
        /// Whether the tool succeeded.
        ok: bool,
        /// What the tool returned, bounded (a long output keeps its head and says how much was cut).
        output: String,
    },
    /// The agent ran a shell command.
    CommandRun {
        /// The command line as the client reported it.
        command: String,
        /// Its exit code, when the client reported one.
        exit_code: Option<i32>,
        /// What it printed, bounded like a tool result's output.
        output: String,
    },
    /// The agent changed a file (as far as the client reports it; baton's own diff is the truth).
    FileChange {
        /// The path as the client reported it (often absolute).
        path: String,
        /// What happened to the file.
        kind: FileChangeKind,
    },
    /// The agent's current plan, replacing any earlier list.
    TodoList {
        /// The items, in the client's order.
        items: Vec<TodoItem>,
    },
    /// The client reported an error (fatal or not: the exit code and the final result decide).
    Error {
        /// The client's words.
        message: String,
        /// What kind of error it is, as far as baton can tell.
        kind: AgentErrorKind,
    },
    /// Tokens and money the client reported; see [`UsageTotals::absorb`] for how they add up.
    Usage(Usage),
    /// The client's final word on the run.
    Result {
        /// Whether the client considers the run a success.
        ok: bool,
        /// Its final text, if any.
        text: Option<String>,
        /// How many turns it took, if reported.
        turns: Option<u32>,
    },
    /// The client's session (or thread) id, usable to resume where the client supports it.
    Session {
        /// The id.
        id: String,
    },
    /// Something the adapter does not understand, kept as it came (a JSON value, or a string
    /// for a line that was not JSON). Never fatal.
    Unknown {
        /// The raw record.
        raw: serde_json::Value,
    },
}

/// What happened to a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileChangeKind {
    /// The file was created.
    Add,
    /// The file was changed (also used when a client does not say whether it existed).
    Modify,
    /// The file was removed.
    Delete,
    /// The file was moved.
    Rename,
}

/// One entry of an agent's plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    /// What the item says.
    pub text: String,
    /// Whether the agent has done it.
    pub done: bool,
}

/// What kind of error an agent reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum AgentErrorKind {
    /// Missing or rejected credentials.
    Auth,
    /// A short-term limit (requests or tokens per minute, HTTP 429); worth retrying later.
    RateLimited {
        /// When the limit lifts: RFC 3339 when the client gave an instant, else its own words.
        reset_at: Option<String>,
    },
    /// A plan or quota limit (a subscription's usage window, a daily quota, no credit left).
    UsageLimited {
        /// When the limit lifts: RFC 3339 when the client gave an instant, else its own words.
        reset_at: Option<String>,
    },
    /// The conversation no longer fits the model's context window.
    ContextTooLong,
    /// The client stopped at its turn limit.
    TurnLimit,
    /// The model provider failed (HTTP 5xx, overloaded).
    Server,
    /// Anything else.
    Other,
}

/// Tokens and money one client report covers.
///
/// Token fields do not overlap except where noted: `input_tokens` are the prompt tokens billed at
/// the full input rate (cache reads and cache writes are counted apart), `output_tokens` are all
/// generated tokens, of which `reasoning_tokens` were reasoning.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens at the full input rate (not read from or written to a cache).
    pub input_tokens: u64,
    /// Prompt tokens read from a cache.
    pub cached_input_tokens: u64,
    /// Prompt tokens written to a cache.
    pub cache_write_tokens: u64,
    /// Generated tokens, reasoning included.
    pub output_tokens: u64,
    /// Of `output_tokens`, those spent reasoning.
    pub reasoning_tokens: u64,
    /// Dollars in micro-dollars, only when the client reported them (`None`: unknown, never 0
    /// for "not reported").
    pub cost_usd_micros: Option<u64>,
    /// The model the tokens were spent on, when the client says.
    pub model: Option<String>,
    /// `true` when this is a running total that replaces everything before it; `false` when it
    /// covers one step and adds to what came before.
    pub cumulative: bool,
}

/// The usage of a whole agent run, built from its [`AgentEvent::Usage`] reports in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageTotals {
    /// Prompt tokens at the full input rate.
    pub input_tokens: u64,
    /// Prompt tokens read from a cache.
    pub cached_input_tokens: u64,
    /// Prompt tokens written to a cache.
    pub cache_write_tokens: u64,
    /// Generated tokens, reasoning included.
    pub output_tokens: u64,
    /// Of `output_tokens`, those spent reasoning.
    pub reasoning_tokens: u64,
    /// Dollars in micro-dollars; `None` when no report carried any.
    pub cost_usd_micros: Option<u64>,
    /// The last model named by a report.
    pub model: Option<String>,
    /// How many reports were absorbed.
    pub reports: u32,
}

impl UsageTotals {
    /// Takes one report into the totals: a cumulative report replaces everything absorbed so
    /// far (the client's running total is the truth, and adding it would count twice); a
    /// per-step report adds to it.
    pub fn absorb(&mut self, usage: &Usage) {
        if usage.cumulative {
            self.input_tokens = usage.input_tokens;
            self.cached_input_tokens = usage.cached_input_tokens;
            self.cache_write_tokens = usage.cache_write_tokens;
            self.output_tokens = usage.output_tokens;
            self.reasoning_tokens = usage.reasoning_tokens;
            self.cost_usd_micros = usage.cost_usd_micros;
        } else {
            self.input_tokens = self.input_tokens.saturating_add(usage.input_tokens);
            self.cached_input_tokens = self
                .cached_input_tokens
                .saturating_add(usage.cached_input_tokens);
            self.cache_write_tokens = self
                .cache_write_tokens
                .saturating_add(usage.cache_write_tokens);
            self.output_tokens = self.output_tokens.saturating_add(usage.output_tokens);
            self.reasoning_tokens = self.reasoning_tokens.saturating_add(usage.reasoning_tokens);
            self.cost_usd_micros = match (self.cost_usd_micros, usage.cost_usd_micros) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
            };
        }
        if usage.model.is_some() {
            self.model.clone_from(&usage.model);
        }
        self.reports = self.reports.saturating_add(1);
    }

    /// The totals of every [`AgentEvent::Usage`] in `events`, in order.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a AgentEvent>) -> Self {
        let mut totals = Self::default();
        for event in events {
            if let AgentEvent::Usage(usage) = event {
                totals.absorb(usage);
            }
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(input: u64, output: u64, cost: Option<u64>) -> Usage {
        Usage {
            input_tokens: input,
            output_tokens: output,
            cost_usd_micros: cost,
            ..Usage::default()
        }
    }

    #[test]
    fn per_step_reports_add_up() {
        let mut totals = UsageTotals::default();
        totals.absorb(&step(100, 10, Some(5)));
        totals.absorb(&step(200, 20, None));
        assert_eq!((totals.input_tokens, totals.output_tokens), (300, 30));
        assert_eq!(totals.cost_usd_micros, Some(5));
        assert_eq!(totals.reports, 2);
    }

    #[test]
    fn a_cumulative_report_replaces_what_came_before() {
        let mut totals = UsageTotals::default();
        totals.absorb(&step(100, 10, Some(5)));
        let running = Usage {
            cumulative: true,
            ..step(250, 30, Some(40))
        };
        totals.absorb(&running);
        totals.absorb(&running);
        assert_eq!((totals.input_tokens, totals.output_tokens), (250, 30));
        assert_eq!(totals.cost_usd_micros, Some(40));
    }

    #[test]
    fn reports_without_dollars_leave_the_cost_unknown_not_zero() {
        let totals = UsageTotals::from_events(&[AgentEvent::Usage(step(1, 1, None))]);
        assert_eq!(totals.cost_usd_micros, None);
    }

    #[test]
    fn events_round_trip_through_json_with_a_type_tag() {
        let events = vec![
            AgentEvent::Usage(Usage {
                model: Some("m".into()),
                cumulative: true,
                ..step(1, 2, Some(3))
            }),
            AgentEvent::Error {
                message: "slow down".into(),
                kind: AgentErrorKind::RateLimited {
                    reset_at: Some("2025-01-01T00:00:00Z".into()),
                },
            },
            AgentEvent::FileChange {
                path: "a.txt".into(),
                kind: FileChangeKind::Rename,
            },
        ];
        let text = serde_json::to_string(&events).unwrap_or_default();
        assert!(text.contains(r#""type":"usage""#), "{text}");
        assert!(text.contains(r#""code":"rate_limited""#), "{text}");
        let back: Vec<AgentEvent> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, events);
    }
}
