//! Where each value of a plan file sits, and what to say when serde-saphyr rejects the text.
//!
//! The plan is read twice: once into the schema types of `baton_protocol::plan` (which
//! reports malformed YAML, wrong types and unknown fields), and once into this mirror of
//! [`serde_saphyr::Spanned`] markers that records the line and column of every value.
use super::diagnostic::Pos;
use super::suggest::hint;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_saphyr::{Error, Location, MessageFormatter, Spanned, UserMessageFormatter};
use std::collections::BTreeMap;

/// A value's position, whatever the value.
type At = Option<Spanned<IgnoredAny>>;
/// A list's position and the position of each item.
type ListAt = Option<Spanned<Option<Vec<Spanned<IgnoredAny>>>>>;

/// The position of a mapping and of each value by key.
type MapAt = Option<Spanned<Option<BTreeMap<String, Spanned<IgnoredAny>>>>>;
/// The position of the task list and of each task's values.
type TasksAt = Option<Spanned<Option<Vec<Spanned<TaskSpans>>>>>;

/// Positions of the top-level values.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PlanSpans {
    pub version: At,
    pub goal: At,
    pub lanes: At,
    pub gates: MapAt,
    pub merge_gates: ListAt,
    pub merge: MapAt,
    pub tasks: TasksAt,
}

/// Positions of one task's values.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TaskSpans {
    pub id: At,
    pub agent: At,
    pub run: At,
    pub prompt: At,
    pub prompt_file: At,
    pub complexity: At,
    pub max_turns: At,
    pub claims: ListAt,
    pub deps: ListAt,
    pub priority: At,
    pub risk: At,
    pub estimate: At,
    pub gates: ListAt,
    pub timeout: At,
    pub silence: At,
    pub steps: ListAt,
}

impl PlanSpans {
    /// Reads positions; all unknown when the text cannot be read a second time.
    pub fn read(source: &str) -> PlanSpans {
        serde_saphyr::from_str(source).unwrap_or_default()
    }

    /// The positions of the task at `index`.
    pub fn task(&self, index: usize) -> Option<&Spanned<TaskSpans>> {
        self.tasks
            .as_ref()
            .and_then(|tasks| tasks.value.as_ref())
            .and_then(|tasks| tasks.get(index))
    }
}

/// The position of a spanned value, or `fallback` when unknown.
pub(crate) fn pos_of<T>(spanned: Option<&Spanned<T>>, fallback: Pos) -> Pos {
    spanned
        .map(|s| to_pos(s.referenced))
        .filter(|pos| pos.line > 0)
        .unwrap_or(fallback)
}

/// The position of item `index` of a spanned list, or `fallback` when unknown.
pub(crate) fn item_pos(list: &ListAt, index: usize, fallback: Pos) -> Pos {
    let item = list
        .as_ref()
        .and_then(|list| list.value.as_ref())
        .and_then(|list| list.get(index));
    pos_of(item, pos_of(list.as_ref(), fallback))
}

fn to_pos(location: Location) -> Pos {
    Pos {
        line: u32::try_from(location.line()).unwrap_or(u32::MAX),
        column: u32::try_from(location.column()).unwrap_or(u32::MAX),
    }
}

/// What a YAML document is called in messages: its items (recognised by a field only they
/// have), the document itself, and the shape it must have.
pub(crate) struct DocWords {
    /// A field only items have (`run` for plan tasks).
    pub item_field: &'static str,
    /// `a task`.
    pub item: &'static str,
    /// `the plan`.
    pub whole: &'static str,
    /// What the document must be, e.g. `a YAML mapping with version, goal and tasks`.
    pub shape: &'static str,
}

/// The words of plan files.
pub(crate) const PLAN_WORDS: DocWords = DocWords {
    item_field: "run",
    item: "a task",
    whole: "the plan",
    shape: "the plan must be a YAML mapping with version, goal and tasks",
};

/// Turns a serde-saphyr error into a position and a message that names the field and the fix.
pub(crate) fn describe_yaml_error(error: &Error, source: &str) -> (Pos, String) {
    describe_yaml_error_in(error, source, &PLAN_WORDS)
}

/// [`describe_yaml_error`] for a document described by `words`.
pub(crate) fn describe_yaml_error_in(
    error: &Error,
    source: &str,
    words: &DocWords,
) -> (Pos, String) {
    let pos = error
        .location()
        .map(to_pos)
        .filter(|pos| pos.line > 0)
        .unwrap_or(Pos::START);
    let field = field_at(source, pos);
    let name = field
        .as_deref()
        .map(|f| format!("\"{f}\""))
        .unwrap_or_else(|| "this value".to_owned());
    let message = match error.without_snippet() {
        Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let place = if expected.contains(&words.item_field) {
                words.item
            } else {
                words.whole
            };
            format!(
                "unknown field \"{field}\" in {place}{}; the known fields are: {}",
                hint(field, expected.iter().copied()),
                expected.join(", ")
            )
        }
        Error::SerdeMissingField { field, .. } => {
            format!("missing field \"{field}\"; add \"{field}: ...\" to this entry")
        }
        Error::NullIntoString { .. } => format!("{name} is empty; give it a value"),
        Error::DuplicateMappingKey { key, .. } => match key {
            Some(key) => format!("\"{key}\" appears twice in the same mapping; keep one"),
            None => "a key appears twice in the same mapping; keep one".to_owned(),
        },
        Error::InvalidScalar { ty, .. } => format!(
            "{name} has the wrong type: expected {}, found {}; fix the value",
            type_words(ty),
            value_at(source, pos)
        ),
        Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | Error::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => format!(
            "{name} has the wrong type: expected {}, found {unexpected}; fix the value",
            type_words(expected)
        ),
        Error::Unexpected { expected, .. } if field.is_none() && pos == Pos::START => {
            format!("{} (expected {})", words.shape, shape_words(expected))
        }
        Error::Unexpected { expected, .. } if field.is_some() => format!(
            "{name} has the wrong type: expected {}; fix the value",
            shape_words(expected)
        ),
        other => format!(
            "invalid YAML: {}; fix the syntax here",
            UserMessageFormatter.format_message(other)
        ),
    };
    (pos, message)
}

/// Plain words for serde's type names.
fn type_words(ty: &str) -> String {
    match ty {
        "u32" | "u64" | "usize" => "a whole number (0 or more)".to_owned(),
        "a string" | "string" => "a string".to_owned(),
        other => other.to_owned(),
    }
}

/// Plain words for serde-saphyr's "expected ..." event names.
fn shape_words(expected: &str) -> String {
    match expected {
        "sequence start" => "a list, e.g. [a, b] or one \"- item\" per line".to_owned(),
        "mapping start" => "a mapping of \"key: value\" lines".to_owned(),
        "string scalar" => "a single text value".to_owned(),
        other => other.to_owned(),
    }
}

/// The key of the `key: value` line holding `pos`, when the value starts after it (or the
/// key of a `key:` line with nothing after it).
fn field_at(source: &str, pos: Pos) -> Option<String> {
    let line = source.lines().nth(pos.line.checked_sub(1)? as usize)?;
    let before: String = line
        .chars()
        .take(pos.column.saturating_sub(1) as usize)
        .collect();
    key_of(&before).or_else(|| {
        line.trim_end()
            .ends_with(':')
            .then(|| key_of(line))
            .flatten()
    })
}

/// The key of a `key: ...` or `- key: ...` text.
fn key_of(text: &str) -> Option<String> {
    let before = text.trim_start();
    let before = before.strip_prefix("- ").unwrap_or(before).trim_start();
    let (key, _) = before.split_once(':')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    let is_word = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    is_word.then(|| key.to_owned())
}

/// The text of the value starting at `pos`, quoted, for messages.
fn value_at(source: &str, pos: Pos) -> String {
    let text = source
        .lines()
        .nth(pos.line.saturating_sub(1) as usize)
        .map(|line| {
            line.chars()
                .skip(pos.column.saturating_sub(1) as usize)
                .collect::<String>()
        })
        .unwrap_or_default();
    let text = text.split(" #").next().unwrap_or_default().trim();
    format!("\"{text}\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_of_a_value_is_read_from_its_line() {
        let source = "lanes: four\ntasks:\n  - id: a\n    deps: [x]\n";
        assert_eq!(
            field_at(source, Pos { line: 1, column: 8 }).as_deref(),
            Some("lanes")
        );
        assert_eq!(
            field_at(source, Pos { line: 3, column: 9 }).as_deref(),
            Some("id")
        );
        assert_eq!(
            field_at(
                source,
                Pos {
                    line: 4,
                    column: 11
                }
            )
            .as_deref(),
            Some("deps")
        );
        assert_eq!(field_at(source, Pos { line: 3, column: 3 }), None);
    }

    #[test]
    fn positions_of_list_items_and_task_fields_are_recorded() {
        let source = "version: 1\nmerge_gates: [a, b]\ntasks:\n  - id: x\n    deps:\n      - y\n";
        let spans = PlanSpans::read(source);
        assert_eq!(
            item_pos(&spans.merge_gates, 1, Pos::START),
            Pos {
                line: 2,
                column: 18
            }
        );
        let task = spans.task(0).unwrap();
        assert_eq!(
            pos_of(task.value.id.as_ref(), Pos::START),
            Pos { line: 4, column: 9 }
        );
        assert_eq!(
            item_pos(&task.value.deps, 0, Pos::START),
            Pos { line: 6, column: 9 }
        );
    }
}
