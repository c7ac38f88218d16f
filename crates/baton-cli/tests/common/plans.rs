//! The plans of the crash-safety fixtures.

use std::path::Path;

/// The tasks of [`batched_plan_yaml`].
pub const BATCHED_TASKS: &[&str] = &["a", "b", "c", "d", "e", "f"];

/// Six independent tasks on six lanes whose merges queue up together: `a` finishes at once;
/// the others wait until the merge gate has started on `a` (a marker the gate writes), so
/// they queue while it runs and the next round batches them, `c` first. `c`'s first attempt also writes
/// `out/bad.txt`, which the merge gate refuses: its batch fails and is bisected until `c` is
/// found; `c`'s second attempt is clean. With two merge lanes, batches behind the first are
/// gated speculatively.
pub fn batched_plan_yaml(counts: &Path) -> String {
    let marker = counts.join("merge-gate-started");
    let wait = format!(
        "for i in $(seq 100); do [ -f '{}' ] && break; sleep 0.1; done",
        marker.display()
    );
    let task = |id: &str| {
        let count = format!("echo ran >> '{}/{id}'", counts.display());
        // `c` queues first behind `a`, the others after it: `c` heads a batch. (Lanes are
        // created one at a time, so start order says nothing.)
        let c_done = counts.join("c-done");
        let wait = match id {
            "a" => String::new(),
            "c" => format!("{wait}; "),
            _ => format!(
                "for i in $(seq 100); do [ -f '{}' ] && break; sleep 0.1; done; sleep 0.2; ",
                c_done.display()
            ),
        };
        let done = if id == "c" {
            format!("; touch '{}'", c_done.display())
        } else {
            String::new()
        };
        let bad = if id == "c" {
            "if [ $BATON_ATTEMPT = 1 ]; then echo bad > out/bad.txt; fi; "
        } else {
            ""
        };
        let claims = if id == "c" {
            format!("[\"out/{id}.txt\", \"out/bad.txt\"]")
        } else {
            format!("[\"out/{id}.txt\"]")
        };
        format!(
            "  - id: {id}\n    run: \"{count}; {wait}mkdir -p out && {bad}echo {id} > out/{id}.txt{done}\"\n    claims: {claims}\n    retries: 2\n"
        )
    };
    let tasks: String = BATCHED_TASKS.iter().map(|id| task(id)).collect();
    format!(
        r#"version: 1
goal: "crash safety of batches"
lanes: 6
gates:
  test: "touch '{marker}'; sleep 1; test -f README.md && ! test -f out/bad.txt"
merge_gates: [test]
tasks:
{tasks}"#,
        marker = marker.display(),
    )
}

/// The plan: `root` -> (`left`, `right`) -> `join` (a diamond) and the independent `solo`. Each
/// task counts its agent runs and writes `out/<task>.txt`; `left` leaves a background straggler
/// behind, `right` takes a moment, `solo` sleeps 30 s while the hold file exists. `root` and
/// `join` run the `test` gate; every merge runs it too. With `pace`, every task first sleeps
/// that many seconds.
pub fn plan_yaml(counts: &Path, hold: &Path, pace: Option<&str>) -> String {
    let pace = pace.map(|p| format!("; sleep {p}")).unwrap_or_default();
    let count = |task: &str| format!("echo ran >> '{}/{task}'{pace}", counts.display());
    let write = |task: &str| format!("mkdir -p out && echo {task} > out/{task}.txt");
    format!(
        r#"version: 1
goal: "crash safety"
lanes: 2
gates:
  test: "test -f README.md"
merge_gates: [test]
tasks:
  - id: root
    run: "{count_root}; {write_root}"
    claims: ["out/root.txt"]
    gates: [test]
  - id: left
    run: "{count_left}; sleep 30 & {write_left}"
    claims: ["out/left.txt"]
    deps: [root]
  - id: right
    run: "{count_right}; sleep 0.3; {write_right}"
    claims: ["out/right.txt"]
    deps: [root]
  - id: join
    run: "{count_join}; {write_join}"
    claims: ["out/join.txt"]
    deps: [left, right]
    gates: [test]
  - id: solo
    run: "{count_solo}; if [ -f '{hold}' ]; then sleep 30; fi; {write_solo}"
    claims: ["out/solo.txt"]
"#,
        count_root = count("root"),
        write_root = write("root"),
        count_left = count("left"),
        write_left = write("left"),
        count_right = count("right"),
        write_right = write("right"),
        count_join = count("join"),
        write_join = write("join"),
        count_solo = count("solo"),
        write_solo = write("solo"),
        hold = hold.display(),
    )
}
