//! The script a fake LLM server plays: what it is on disk and what it becomes once checked.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::log::{Dialect, LoggedRequest};

/// A script that cannot be read or makes no sense; says which turn and why.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("reading the fake LLM script {path}: {source}")]
    Read {
        /// The script's path.
        path: String,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The text is neither a script mapping nor a list of turns.
    #[error(
        "the fake LLM script is neither a mapping with `turns:` ({as_mapping}) nor a list of turns ({as_list})"
    )]
    Syntax {
        /// Why it does not read as a mapping.
        as_mapping: String,
        /// Why it does not read as a list of turns.
        as_list: String,
    },
    /// An aside that reads but cannot be played.
    #[error("aside {index} of the fake LLM script: {problem}")]
    Aside {
        /// The aside's position, counted from 1.
        index: usize,
        /// What is wrong with it and how to fix it.
        problem: String,
    },
    /// A turn that reads but cannot be played.
    #[error("turn {index} of the fake LLM script: {problem}")]
    Turn {
        /// The turn's position, counted from 1 as a person would.
        index: usize,
        /// What is wrong with it and how to fix it.
        problem: String,
    },
}

/// Token counts a turn reports; any left out are derived from the request and the reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageSpec {
    /// Prompt tokens, cached ones included (the OpenAI and Gemini convention; the Anthropic
    /// dialect reports `input - cached` as `input_tokens`).
    pub input: Option<u64>,
    /// Completion tokens, reasoning included.
    pub output: Option<u64>,
    /// Prompt tokens served from a cache.
    pub cached: Option<u64>,
    /// Completion tokens spent on reasoning.
    pub reasoning: Option<u64>,
}

/// Token counts as a dialect reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens, cached ones included.
    pub input: u64,
    /// Completion tokens, reasoning included.
    pub output: u64,
    /// Prompt tokens served from a cache.
    pub cached: u64,
    /// Completion tokens spent on reasoning.
    pub reasoning: u64,
}

/// One tool call the model makes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolCall {
    /// The tool's name as the client offered it (`Write`, `exec_command`, `write_file`...).
    pub name: String,
    /// The tool's arguments. For the Responses dialect's freeform `apply_patch` tool a string
    /// (or an object whose `input` is a string) is the patch text.
    #[serde(default = "empty_object")]
    pub input: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// An error answer in place of a reply.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReply {
    /// The HTTP status (429, 500, 529...).
    pub status: u16,
    /// Seconds for a `retry-after` header, if any.
    pub retry_after: Option<u64>,
    /// Send `retry_after` as an HTTP date (now plus those seconds) instead of seconds.
    #[serde(default)]
    pub retry_after_as_date: bool,
    /// Answer 200 and a stream whose first event is the error (as a vendor does when it fails
    /// after the stream started); `status` then picks the error's kind.
    #[serde(default)]
    pub in_stream: bool,
    /// The error message. A JSON object here is sent verbatim; anything else is wrapped in the
    /// dialect's error envelope.
    pub body: Option<String>,
}

/// One turn as written in the script, before it is checked.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TurnSpec {
    text: Option<String>,
    tool_call: Option<ToolCall>,
    #[serde(default)]
    tool_calls: Vec<ToolCall>,
    error: Option<ErrorReply>,
    delay_ms: Option<u64>,
    #[serde(default)]
    hang: bool,
    usage: Option<UsageSpec>,
    when: Option<Matcher>,
}

/// Which requests an aside answers: every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Matcher {
    /// The request's dialect (`anthropic_messages`, `openai_responses`, `openai_chat`, `gemini`).
    pub dialect: Option<Dialect>,
    /// Whether the request offers any tool.
    pub has_tools: Option<bool>,
    /// Whether the request asks for a stream (a body without `stream` does not).
    pub stream: Option<bool>,
    /// Text the last user message must contain.
    pub last_user_contains: Option<String>,
}

impl Matcher {
    /// Whether `request` meets every condition.
    pub fn matches(&self, request: &LoggedRequest) -> bool {
        self.dialect
            .is_none_or(|dialect| request.dialect == Some(dialect))
            && self
                .has_tools
                .is_none_or(|has_tools| has_tools != request.tools.is_empty())
            && self
                .stream
                .is_none_or(|stream| stream == request.stream.unwrap_or(false))
            && self.last_user_contains.as_deref().is_none_or(|needle| {
                request
                    .last_user_text
                    .as_deref()
                    .is_some_and(|text| text.contains(needle))
            })
    }
}

/// A reply for side requests (titles, commit messages) that takes no turn and repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct Aside {
    /// The requests it answers.
    pub when: Matcher,
    /// What it answers them.
    pub turn: Turn,
}

/// The whole script file as a mapping.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptSpec {
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    turns: Vec<TurnSpec>,
    #[serde(default)]
    aside: Vec<TurnSpec>,
    when_exhausted: Option<TurnSpec>,
}

/// What a turn does once its delay is over.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// A model reply: text first (if any), then tool calls in order.
    Reply {
        /// The reply's text; empty when the turn only calls tools.
        text: String,
        /// Tool calls after the text.
        tool_calls: Vec<ToolCall>,
    },
    /// An HTTP error instead of a reply.
    Error(ErrorReply),
    /// Accept the request and never answer it (the client has to time out).
    Hang,
}

/// One checked turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// How long to wait before answering.
    pub delay: Duration,
    /// What to answer.
    pub action: Action,
    /// Token counts the script fixed; the rest are derived per request.
    pub usage: UsageSpec,
}

impl Turn {
    /// A plain text reply, answered at once.
    pub fn text(text: impl Into<String>) -> Turn {
        Turn {
            delay: Duration::ZERO,
            action: Action::Reply {
                text: text.into(),
                tool_calls: Vec::new(),
            },
            usage: UsageSpec::default(),
        }
    }

    /// A reply that calls one tool.
    pub fn tool_call(name: impl Into<String>, input: Value) -> Turn {
        Turn {
            delay: Duration::ZERO,
            action: Action::Reply {
                text: String::new(),
                tool_calls: vec![ToolCall {
                    name: name.into(),
                    input,
                }],
            },
            usage: UsageSpec::default(),
        }
    }

    /// The same turn with fixed token counts.
    pub fn with_usage(mut self, usage: UsageSpec) -> Turn {
        self.usage = usage;
        self
    }

    /// The same turn answered after `delay`.
    pub fn with_delay(mut self, delay: Duration) -> Turn {
        self.delay = delay;
        self
    }

    /// The token counts to report for this turn, given the request body's size in bytes.
    ///
    /// Defaults: a quarter of the body's bytes for input, a quarter of the reply's characters
    /// for output (at least 1 each), nothing cached, no reasoning.
    pub fn usage_for(&self, request_bytes: usize) -> Usage {
        let reply_chars = match &self.action {
            Action::Reply { text, tool_calls } => {
                text.chars().count()
                    + tool_calls
                        .iter()
                        .map(|call| call.name.len() + call.input.to_string().len())
                        .sum::<usize>()
            }
            Action::Error(_) | Action::Hang => 0,
        };
        let quarter = |n: usize| u64::try_from(n / 4).unwrap_or(u64::MAX).max(1);
        let output = self.usage.output.unwrap_or_else(|| quarter(reply_chars));
        let cached = self.usage.cached.unwrap_or(0);
        Usage {
            input: self
                .usage
                .input
                .unwrap_or_else(|| quarter(request_bytes))
                .max(cached),
            output,
            cached,
            reasoning: self.usage.reasoning.unwrap_or(0).min(output),
        }
    }

    fn from_spec(index: usize, spec: TurnSpec) -> Result<Turn, ScriptError> {
        let problem = |problem: &str| ScriptError::Turn {
            index,
            problem: problem.to_owned(),
        };
        if spec.when.is_some() {
            return Err(problem(
                "`when` belongs to `aside` entries: a turn answers the next request whatever it is",
            ));
        }
        let mut tool_calls: Vec<ToolCall> = spec.tool_call.into_iter().collect();
        tool_calls.extend(spec.tool_calls);
        let replies = spec.text.is_some() || !tool_calls.is_empty();
        let action = match (replies, spec.error, spec.hang) {
            (true, None, false) => Action::Reply {
                text: spec.text.unwrap_or_default(),
                tool_calls,
            },
            (false, Some(error), false) => {
                if !(400..=599).contains(&error.status) {
                    return Err(problem(&format!(
                        "error status {} is not an HTTP error (use 400 to 599)",
                        error.status
                    )));
                }
                Action::Error(error)
            }
            (false, None, true) => Action::Hang,
            (false, None, false) => {
                return Err(problem(
                    "it does nothing: give it `text`, `tool_call`, `error` or `hang: true`",
                ));
            }
            _ => {
                return Err(problem(
                    "`error` and `hang` each stand alone: move the reply (`text`/`tool_call`) to its own turn",
                ));
            }
        };
        for call in match &action {
            Action::Reply { tool_calls, .. } => tool_calls.as_slice(),
            _ => &[],
        } {
            if call.name.is_empty() {
                return Err(problem("a tool call needs a `name`"));
            }
        }
        Ok(Turn {
            delay: Duration::from_millis(spec.delay_ms.unwrap_or(0)),
            action,
            usage: spec.usage.unwrap_or_default(),
        })
    }
}

/// A checked script: the turns to play in order, and what to answer once they are used up.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Model names `GET /v1/models` lists (`fake-model` when the script names none).
    pub models: Vec<String>,
    /// Turns, one per model request, in order, whatever the dialect.
    pub turns: Vec<Turn>,
    /// Replies that answer matching requests before any turn is taken, first match first.
    pub aside: Vec<Aside>,
    /// The answer to every model request after the last turn (a plain `done` by default).
    pub when_exhausted: Turn,
}

impl Script {
    /// A script playing `turns` in order, then answering `done`.
    pub fn new(turns: impl IntoIterator<Item = Turn>) -> Script {
        Script {
            models: vec![DEFAULT_MODEL.to_owned()],
            turns: turns.into_iter().collect(),
            aside: Vec::new(),
            when_exhausted: Turn::text(DEFAULT_EXHAUSTED_TEXT),
        }
    }

    /// The same script with an aside answering requests that `when` matches.
    pub fn with_aside(mut self, when: Matcher, turn: Turn) -> Script {
        self.aside.push(Aside { when, turn });
        self
    }

    /// Reads a script from YAML or JSON text: either a mapping (`models`, `turns`, `aside`,
    /// `when_exhausted`) or just the list of turns.
    pub fn parse(source: &str) -> Result<Script, ScriptError> {
        let spec = match serde_saphyr::from_str::<ScriptSpec>(source) {
            Ok(spec) => spec,
            Err(as_mapping) => match serde_saphyr::from_str::<Vec<TurnSpec>>(source) {
                Ok(turns) => ScriptSpec {
                    models: Vec::new(),
                    turns,
                    aside: Vec::new(),
                    when_exhausted: None,
                },
                Err(as_list) => {
                    return Err(ScriptError::Syntax {
                        as_mapping: as_mapping.to_string(),
                        as_list: as_list.to_string(),
                    });
                }
            },
        };
        let turns = spec
            .turns
            .into_iter()
            .enumerate()
            .map(|(at, turn)| Turn::from_spec(at + 1, turn))
            .collect::<Result<Vec<_>, _>>()?;
        let aside = spec
            .aside
            .into_iter()
            .enumerate()
            .map(|(at, mut spec)| {
                let when = spec.when.take().ok_or_else(|| ScriptError::Aside {
                    index: at + 1,
                    problem: "it needs `when` (dialect, has_tools, stream, last_user_contains)"
                        .to_owned(),
                })?;
                let turn = Turn::from_spec(0, spec).map_err(|err| match err {
                    ScriptError::Turn { problem, .. } => ScriptError::Aside {
                        index: at + 1,
                        problem,
                    },
                    other => other,
                })?;
                Ok(Aside { when, turn })
            })
            .collect::<Result<Vec<_>, ScriptError>>()?;
        let when_exhausted = match spec.when_exhausted {
            Some(turn) => Turn::from_spec(turns.len() + 1, turn)?,
            None => Turn::text(DEFAULT_EXHAUSTED_TEXT),
        };
        let models = if spec.models.is_empty() {
            vec![DEFAULT_MODEL.to_owned()]
        } else {
            spec.models
        };
        Ok(Script {
            models,
            turns,
            aside,
            when_exhausted,
        })
    }

    /// Reads a script file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Script, ScriptError> {
        let source = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Script::parse(&source)
    }
}

/// The model name listed when a script names none.
pub const DEFAULT_MODEL: &str = "fake-model";

/// The text answered once a script's turns are used up, unless it says otherwise.
pub const DEFAULT_EXHAUSTED_TEXT: &str = "done";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_script_with_every_kind_of_turn_reads_back() -> Result<(), ScriptError> {
        let script = Script::parse(
            r#"
models: [m1, m2]
turns:
  - text: hello
    usage: {input: 10, output: 2, cached: 4, reasoning: 1}
  - tool_call: {name: Write, input: {file_path: /tmp/x, content: "hi\n"}}
    text: writing
  - error: {status: 429, retry_after: 2, body: slow down}
  - delay_ms: 30
    text: late
  - hang: true
when_exhausted: {text: finished}
"#,
        )?;
        assert_eq!(script.models, ["m1", "m2"]);
        assert_eq!(script.turns.len(), 5);
        assert_eq!(
            script.turns[1].action,
            Action::Reply {
                text: "writing".into(),
                tool_calls: vec![ToolCall {
                    name: "Write".into(),
                    input: serde_json::json!({"file_path": "/tmp/x", "content": "hi\n"}),
                }],
            }
        );
        assert_eq!(
            script.turns[2].action,
            Action::Error(ErrorReply {
                status: 429,
                retry_after: Some(2),
                retry_after_as_date: false,
                in_stream: false,
                body: Some("slow down".into())
            })
        );
        assert_eq!(script.turns[3].delay, Duration::from_millis(30));
        assert_eq!(script.turns[4].action, Action::Hang);
        assert_eq!(script.when_exhausted, Turn::text("finished"));
        Ok(())
    }

    #[test]
    fn a_bare_json_list_of_turns_is_a_script_with_the_default_model() -> Result<(), ScriptError> {
        let script = Script::parse(r#"[{"text": "a"}, {"tool_call": {"name": "bash"}}]"#)?;
        assert_eq!(script.models, [DEFAULT_MODEL]);
        assert_eq!(script.turns[0], Turn::text("a"));
        assert_eq!(
            script.turns[1],
            Turn::tool_call("bash", serde_json::json!({}))
        );
        assert_eq!(script.when_exhausted, Turn::text(DEFAULT_EXHAUSTED_TEXT));
        Ok(())
    }

    #[test]
    fn a_turn_that_does_nothing_is_refused_with_its_number() {
        let err = Script::parse("turns:\n  - text: a\n  - delay_ms: 5\n").err();
        let message = err.map(|err| err.to_string()).unwrap_or_default();
        assert!(
            message.starts_with("turn 2 of the fake LLM script"),
            "{message}"
        );
        assert!(message.contains("`tool_call`"), "{message}");
    }

    #[test]
    fn an_error_turn_that_also_replies_is_refused() {
        let err = Script::parse("- {text: a, error: {status: 500}}").err();
        assert!(
            matches!(err, Some(ScriptError::Turn { index: 1, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn an_aside_needs_when_and_a_turn_may_not_have_one() {
        let aside =
            Script::parse("aside:\n  - {when: {has_tools: false, stream: false}, text: title}\n");
        let aside = aside.map(|script| script.aside).unwrap_or_default();
        assert_eq!(aside.len(), 1);
        assert_eq!(aside[0].when.has_tools, Some(false));
        assert_eq!(aside[0].turn, Turn::text("title"));
        let missing = Script::parse("aside:\n  - {text: title}\n").err();
        assert!(
            matches!(missing, Some(ScriptError::Aside { index: 1, .. })),
            "{missing:?}"
        );
        let misplaced = Script::parse("- {when: {stream: true}, text: a}\n").err();
        assert!(
            matches!(misplaced, Some(ScriptError::Turn { index: 1, .. })),
            "{misplaced:?}"
        );
    }

    #[test]
    fn a_matcher_holds_only_when_every_condition_does() {
        let mut request = LoggedRequest::plain("POST", "/v1/chat/completions");
        request.dialect = Some(Dialect::OpenaiChat);
        request.last_user_text = Some("Generate a title for: make hello.txt".to_owned());
        let title = Matcher {
            dialect: Some(Dialect::OpenaiChat),
            has_tools: Some(false),
            stream: Some(false),
            last_user_contains: Some("title".to_owned()),
        };
        assert!(title.matches(&request));
        request.tools = vec!["bash".to_owned()];
        assert!(!title.matches(&request));
        request.tools.clear();
        request.stream = Some(true);
        assert!(!title.matches(&request));
        assert!(Matcher::default().matches(&request));
    }

    #[test]
    fn an_unknown_key_is_refused_rather_than_ignored() {
        let err = Script::parse("- {txt: a}").err();
        assert!(matches!(err, Some(ScriptError::Syntax { .. })), "{err:?}");
    }

    #[test]
    fn usage_left_out_is_derived_from_the_request_and_the_reply() {
        let usage = Turn::text("12345678").usage_for(400);
        assert_eq!(
            usage,
            Usage {
                input: 100,
                output: 2,
                cached: 0,
                reasoning: 0
            }
        );
        let fixed = Turn::text("x").with_usage(UsageSpec {
            input: Some(7),
            output: None,
            cached: Some(3),
            reasoning: Some(9),
        });
        assert_eq!(
            fixed.usage_for(4000),
            Usage {
                input: 7,
                output: 1,
                cached: 3,
                reasoning: 1
            }
        );
    }
}
