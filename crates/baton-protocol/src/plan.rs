//! The plan file schema, version 1: the YAML a person writes, field by field, before validation.
//!
//! Every field a person may leave out is optional here; defaults, cross-references and value
//! checks belong to `baton_core::plan`, which turns a [`PlanFile`] into a validated plan.
use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeSet;
use std::fmt;

/// The only plan file version this build understands.
pub const PLAN_VERSION: u32 = 1;

/// The top level of a plan file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    /// Schema version; must be [`PLAN_VERSION`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// What the whole run is for; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal: Option<String>,
    /// Branch the run starts from; the caller's current branch when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// How many tasks may run at once (default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lanes: Option<u32>,
    /// Named shell commands, in declared order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "serialize_gates",
        deserialize_with = "deserialize_gates"
    )]
    pub gates: Vec<GateDecl>,
    /// Gates run on every would-be merge; every gate when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge_gates: Option<Vec<String>>,
    /// The work, one entry per task.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tasks: Vec<TaskFile>,
    /// An AI attempt estimated past this waits for a person's approval (overrides
    /// `[budget] approval_threshold_usd` of the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_threshold_usd: Option<Dollars>,
    /// How the merge queue batches and speculates (overrides `[merge]` of the configuration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeFile>,
}

/// The `merge:` mapping of a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MergeFile {
    /// Items per merge-gate run: `adaptive` or a size (1 to 16).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<BatchFile>,
    /// Batches gated at once, each on the one before it (1 to 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lanes: Option<u32>,
}

/// `merge: batch:` as written: a size or a word (`adaptive`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BatchFile {
    Size(u32),
    Word(String),
}

/// One entry of the `gates:` mapping: `name: "command"`, or `name: {run: "command", expect:
/// fail}` for a gate that passes only when its command fails (the red gate of test-first work:
/// new tests must fail on the code as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDecl {
    /// The key, used by `gates:` and `merge_gates:` lists.
    pub name: String,
    /// The shell command; passes when it exits with code 0 (or, with `expect_failure`, when it
    /// exits with another code).
    pub command: String,
    /// `expect: fail`: the gate passes only when its command exits non-zero.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expect_failure: bool,
}

/// A gate's value as written: the command, or a mapping with `run` and `expect`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum GateValue {
    Command(String),
    Table(GateTable),
}

/// `name: {run: "command", expect: pass|fail}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct GateTable {
    run: String,
    #[serde(default)]
    expect: Option<String>,
}

/// One entry of the `tasks:` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskFile {
    /// `[a-z0-9_-]+`, unique within the plan.
    pub id: String,
    /// Human title; the id when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Which agent does the work; `exec` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Shell command of an `exec` task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<String>,
    /// What an AI agent is asked to do (every agent but `exec` needs this or `prompt_file`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// A file holding the prompt, relative to the plan file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_file: Option<String>,
    /// The model the agent uses (its own default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// How hard the task is, 1 (trivial) to 10, for routing `agent: auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<u32>,
    /// Capabilities the agent must have, for routing `agent: auto`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub capabilities: Vec<String>,
    /// The most turns the agent may take (clients that support a limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_turns: Option<u32>,
    /// Globs the task may change; `shared:GLOB` for a shared claim. Empty means everything.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub claims: Vec<String>,
    /// Ids of tasks that must be merged before this one starts.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub deps: Vec<String>,
    /// `high`, `medium` or `low`; `medium` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Expected duration (humantime, e.g. `30s`), for critical-path ordering.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimate: Option<String>,
    /// Gate names run in the lane after the task.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub gates: Vec<String>,
    /// Absolute limit of the task's process (default `30m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Kill the process after this long without output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence: Option<String>,
    /// Extra attempts after a failure (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// The most dollars one attempt may cost: reserved against the budgets as its estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cost: Option<Dollars>,
    /// `low`, `medium` or `high`: the least risk the task has (`[risk]` rules may raise it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// The steps of the work (from the planner, or written by hand): the task's checklist
    /// until its agent reports its own, and a list in the agent's prompt.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub steps: Vec<String>,
}

/// An amount of dollars as a plan writes it (`2.5`, `3` or `"$2.50"`), kept in micro-dollars.
/// A negative or non-numeric amount is refused where it is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dollars(pub u64);

impl Dollars {
    fn from_f64<E: de::Error>(value: f64) -> Result<Dollars, E> {
        if !value.is_finite() || value < 0.0 {
            return Err(E::custom(format!(
                "{value} is not an amount of dollars: write 0 or more, such as 2.50"
            )));
        }
        let micros = (value * 1_000_000.0).round();
        if micros > u64::MAX as f64 {
            return Err(E::custom(format!("{value} dollars is too large")));
        }
        Ok(Dollars(micros as u64))
    }
}

impl Serialize for Dollars {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0 as f64 / 1_000_000.0)
    }
}

impl<'de> Deserialize<'de> for Dollars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Dollars, D::Error> {
        struct DollarsVisitor;
        impl Visitor<'_> for DollarsVisitor {
            type Value = Dollars;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an amount of dollars, such as 2.50")
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<Dollars, E> {
                Dollars::from_f64(value)
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<Dollars, E> {
                Dollars::from_f64(value as f64)
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<Dollars, E> {
                Dollars::from_f64(value as f64)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Dollars, E> {
                let value: f64 = text.trim().trim_start_matches('$').parse().map_err(|_| {
                    E::custom(format!(
                        "{text:?} is not an amount of dollars: write a number such as 2.50"
                    ))
                })?;
                Dollars::from_f64(value)
            }
        }
        deserializer.deserialize_any(DollarsVisitor)
    }
}

/// Reads a list written as nothing at all (`deps:`) as an empty list.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn serialize_gates<S: Serializer>(gates: &[GateDecl], serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(gates.len()))?;
    for gate in gates {
        if gate.expect_failure {
            let table = std::collections::BTreeMap::from([
                ("expect", "fail"),
                ("run", gate.command.as_str()),
            ]);
            map.serialize_entry(&gate.name, &table)?;
        } else {
            map.serialize_entry(&gate.name, &gate.command)?;
        }
    }
    map.end()
}

fn deserialize_gates<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<GateDecl>, D::Error> {
    struct GatesVisitor;

    impl<'de> Visitor<'de> for GatesVisitor {
        type Value = Vec<GateDecl>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a mapping of gate names to shell commands")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = BTreeSet::new();
            let mut gates = Vec::new();
            while let Some(name) = map.next_key::<String>()? {
                let value: Option<GateValue> = map.next_value().map_err(|_| {
                    de::Error::custom(format!(
                        "gate \"{name}\": write its shell command, or {{run: \"command\", \
                         expect: fail}}"
                    ))
                })?;
                let Some(value) = value else {
                    return Err(de::Error::custom(format!(
                        "gate \"{name}\" is empty; write the shell command it runs"
                    )));
                };
                if !seen.insert(name.clone()) {
                    return Err(de::Error::custom(format!(
                        "gate \"{name}\" is declared twice; keep one"
                    )));
                }
                let (command, expect_failure) = match value {
                    GateValue::Command(command) => (command, false),
                    GateValue::Table(table) => {
                        let fails = match table.expect.as_deref() {
                            None | Some("pass") => false,
                            Some("fail") => true,
                            Some(other) => {
                                return Err(de::Error::custom(format!(
                                    "gate \"{name}\": expect is {other:?}; write pass or fail"
                                )));
                            }
                        };
                        (table.run, fails)
                    }
                };
                gates.push(GateDecl {
                    name,
                    command,
                    expect_failure,
                });
            }
            Ok(gates)
        }
    }

    deserializer.deserialize_map(GatesVisitor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_file_round_trips_through_json_with_gates_in_declared_order() {
        let plan = PlanFile {
            version: Some(PLAN_VERSION),
            goal: Some("split the parser".into()),
            gates: vec![
                GateDecl {
                    name: "test".into(),
                    command: "cargo test".into(),
                    expect_failure: false,
                },
                GateDecl {
                    name: "build".into(),
                    command: "cargo build".into(),
                    expect_failure: true,
                },
            ],
            tasks: vec![TaskFile {
                id: "lexer".into(),
                run: Some("true".into()),
                ..TaskFile::default()
            }],
            ..PlanFile::default()
        };
        let text = serde_json::to_string(&plan).unwrap();
        assert!(
            text.contains(
                r#""gates":{"test":"cargo test","build":{"expect":"fail","run":"cargo build"}}"#
            ),
            "{text}"
        );
        let back: PlanFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, plan);
    }

    #[test]
    fn an_unknown_task_field_is_rejected() {
        let error = serde_json::from_str::<TaskFile>(r#"{"id":"a","agnet":"exec"}"#).unwrap_err();
        assert!(error.to_string().contains("agnet"), "{error}");
    }
}
