#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The merge queue's batches, bisection and speculation on real repositories: a batch that
//! passes is gated once and merges as one merge commit per task; a failing batch is bisected
//! until its culprits are found, and only they go back; a conflict inside a batch takes out
//! only the conflicting item; speculative gates behind a failure are cancelled; the gate cache
//! finds a lone culprit without running its gate again.
//!
//! Every plan makes the queue's rounds deterministic: task `a` finishes at once and is gated
//! alone; the merge gate writes a marker when it starts, and the other tasks wait for it, so
//! they are all queued while `a`'s gate runs (it sleeps) and the next round batches them.

mod support;

use serde_json::Value;
use support::{Baton, OK, task};

/// Exit code of a run in which some task failed.
const FAILED: i32 = 1;

/// A world for one plan: the repository, a writable directory for markers and counts.
struct Queue {
    baton: Baton,
    marks: std::path::PathBuf,
}

impl Queue {
    /// `merge` is the `[merge]` table's body.
    fn new(merge: &str) -> Queue {
        let baton = Baton::new();
        let marks = baton.writable_scratch("marks");
        let config = baton.path().join("baton.toml");
        let text = std::fs::read_to_string(&config).unwrap();
        std::fs::write(&config, format!("{text}\n[merge]\n{merge}\n")).unwrap();
        Queue { baton, marks }
    }

    /// A plan of `tasks`, the merge gate `gate` (run after the marker is written and a 1 s
    /// sleep).
    fn plan(&self, tasks: &[PlanTask], gate: &str) -> String {
        self.plan_led(tasks, gate, None)
    }

    /// [`Queue::plan`] where the task `lead` queues first after `a` and the others after it.
    fn plan_led(&self, tasks: &[PlanTask], gate: &str, lead: Option<&str>) -> String {
        let marker = self.marks.join("gate-started");
        let lead_done = self.marks.join("lead-done");
        let count = self.marks.join("gate-runs");
        let mut yaml = format!(
            "version: 1\ngoal: batches\nlanes: {lanes}\ngates:\n  check: \"echo run >> '{count}'; \
             touch '{marker}'; sleep 1; {gate}\"\nmerge_gates: [check]\ntasks:\n",
            lanes = tasks.len(),
            count = count.display(),
            marker = marker.display(),
        );
        let wait_for = |file: &std::path::Path| {
            format!(
                "for i in $(seq 200); do [ -f '{}' ] && break; sleep 0.05; done; ",
                file.display()
            )
        };
        for PlanTask { id, extra, claims } in tasks {
            let (wait, done) = match lead {
                _ if *id == "a" => (String::new(), String::new()),
                Some(lead) if lead == *id => (
                    wait_for(&marker),
                    format!(" && touch '{}'", lead_done.display()),
                ),
                Some(_) => (
                    format!("{}sleep 0.2; ", wait_for(&lead_done)),
                    String::new(),
                ),
                None => (wait_for(&marker), String::new()),
            };
            yaml.push_str(&format!(
                "  - id: {id}\n    run: \"{wait}mkdir -p out && {extra}echo {id} > out/{id}.txt{done}\"\n    claims: {claims}\n"
            ));
        }
        yaml
    }

    fn run(&self, yaml: &str, expect: i32) -> (String, Value) {
        let plan = self.baton.plan("batches.yaml", yaml);
        self.baton
            .baton(&["run", "--plan", plan.to_str().unwrap()])
            .expect_code(expect);
        let id = self.baton.run_ids()[0].clone();
        let report = self.baton.report(&id);
        (id, report)
    }

    fn gate_runs(&self) -> usize {
        std::fs::read_to_string(self.marks.join("gate-runs"))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }
}

fn batches(report: &Value) -> Vec<Value> {
    report["batches"].as_array().unwrap().clone()
}

fn members(batch: &Value) -> Vec<String> {
    batch["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

/// Walks the first-parent chain from the integration head to the base: the merged tasks in
/// merge order, each commit a merge whose second parent is the task's commit.
fn first_parent_tasks(baton: &Baton, run: &str, report: &Value) -> Vec<String> {
    let base = report["base_commit"].as_str().unwrap().to_string();
    let mut at = baton.integration(run);
    let mut tasks = Vec::new();
    while at != base {
        let line = baton.git(&["log", "-1", "--format=%P%x00%B", &at]);
        let (parents, body) = line.split_once('\0').unwrap();
        let parents: Vec<&str> = parents.split_whitespace().collect();
        assert_eq!(parents.len(), 2, "{at} is not a merge commit: {body}");
        let task = body
            .lines()
            .find_map(|l| l.strip_prefix("Baton-Merged-Task: "))
            .unwrap_or_else(|| panic!("{at} has no Baton-Merged-Task trailer: {body}"));
        tasks.push(task.to_string());
        at = parents[0].to_string();
    }
    tasks.reverse();
    tasks
}

/// One task of a plan: its id, the shell it runs before it writes `out/<id>.txt`, its claims.
struct PlanTask {
    id: String,
    extra: String,
    claims: String,
}

/// `ids` as plan tasks: each runs `extra(id)` first and claims `claims(id)`.
fn plan_tasks(
    ids: &[&str],
    extra: impl Fn(&str) -> String,
    claims: impl Fn(&str) -> String,
) -> Vec<PlanTask> {
    ids.iter()
        .map(|id| PlanTask {
            id: id.to_string(),
            extra: extra(id),
            claims: claims(id),
        })
        .collect()
}

/// Nothing to run before writing the task's file.
fn nothing(_: &str) -> String {
    String::new()
}

/// The task's own file.
fn claims(id: &str) -> String {
    format!("[\"out/{id}.txt\"]")
}

/// The task's own file and the bad file it may write.
fn claims_with_bad(id: &str) -> String {
    format!("[\"out/{id}.txt\", \"out/bad-{id}.txt\"]")
}

/// Tasks in `bad` also write `out/bad-<id>.txt`, which the culprit gates refuse.
fn bad_file_for(bad: &[&str]) -> impl Fn(&str) -> String {
    let bad: Vec<String> = bad.iter().map(|id| id.to_string()).collect();
    move |id| {
        if bad.iter().any(|b| b == id) {
            format!("echo bad > out/bad-{id}.txt && ")
        } else {
            String::new()
        }
    }
}

#[test]
fn a_batch_that_passes_is_gated_once_and_merges_one_commit_per_task() {
    let queue = Queue::new("batch = 4\nlanes = 1");
    let ids = ["a", "b", "c", "d"];
    let tasks = plan_tasks(&ids, nothing, claims);
    let (run, report) = queue.run(&queue.plan(&tasks, "true"), OK);
    let batches = batches(&report);
    assert_eq!(batches.len(), 2, "{batches:#?}");
    assert_eq!(members(&batches[0]), ["a"]);
    let mut second = members(&batches[1]);
    second.sort();
    assert_eq!(second, ["b", "c", "d"], "{batches:#?}");
    assert_eq!(batches[1]["outcome"], "passed");
    assert_eq!(batches[1]["gate_runs"], 1);
    assert_eq!(queue.gate_runs(), 2, "one gate run per batch");
    // The head is the second batch's tip; the history shows one merge per task.
    assert_eq!(run_head(&queue, &run), batches[1]["tip"].as_str().unwrap());
    let merged = first_parent_tasks(&queue.baton, &run, &report);
    assert_eq!(merged.len(), 4, "{merged:?}");
    assert_eq!(merged[0], "a");
    for id in ids {
        assert_eq!(task(&report, id)["status"], "merged");
        assert_eq!(
            queue
                .baton
                .read_at(&run_head(&queue, &run), &format!("out/{id}.txt")),
            Some(format!("{id}\n"))
        );
    }
    let markdown = queue.baton.baton(&["report", &run]).stdout;
    assert!(markdown.contains("## Merge batches"), "{markdown}");
    assert!(
        markdown.contains("2 batch(es), 2 merge gate run(s)"),
        "{markdown}"
    );
    assert!(
        queue
            .baton
            .events(&run)
            .iter()
            .any(|e| e["type"] == "merge.batch" && e["data"]["outcome"] == "passed"),
    );
}

/// The commit the run's integration branch points at.
fn run_head(queue: &Queue, run: &str) -> String {
    queue.baton.rev(&queue.baton.integration(run)).unwrap()
}

/// Tasks a..f; `bad` ones also write `out/bad-<id>.txt`, which the merge gate refuses.
fn culprit_plan(queue: &Queue, bad: &[&str]) -> String {
    let ids = ["a", "b", "c", "d", "e", "f"];
    let tasks = plan_tasks(&ids, bad_file_for(bad), claims_with_bad);
    queue.plan(&tasks, "! ls out/bad-* >/dev/null 2>&1")
}

/// Checks that exactly `bad` failed (with the gate's output) and every other task merged.
fn assert_only_culprits_failed(queue: &Queue, run: &str, report: &Value, bad: &[&str]) {
    for id in ["a", "b", "c", "d", "e", "f"] {
        let status = &task(report, id)["status"];
        if bad.contains(&id) {
            assert_eq!(status, "failed", "{id}: {report:#}");
            let item = report["merge_queue"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["task"] == id && i["status"] == "failed")
                .unwrap_or_else(|| panic!("no failed merge item of {id}: {report:#}"));
            assert!(
                item["detail"]
                    .as_str()
                    .unwrap()
                    .contains("gate `check` failed"),
                "{item:#}"
            );
        } else {
            assert_eq!(status, "merged", "{id}: {report:#}");
        }
    }
    let merged = first_parent_tasks(&queue.baton, run, report);
    assert_eq!(merged.len(), 6 - bad.len(), "{merged:?}");
    for id in bad {
        assert!(!merged.contains(&id.to_string()));
    }
    let head = run_head(queue, run);
    assert!(
        queue.baton.read_at(&head, "out/bad-c.txt").is_none()
            && queue.baton.read_at(&head, "out/bad-e.txt").is_none(),
        "a culprit's file reached the integration branch"
    );
}

#[test]
fn a_batch_with_one_culprit_is_bisected_and_only_the_culprit_goes_back() {
    let queue = Queue::new("batch = 8\nlanes = 1");
    let (run, report) = queue.run(&culprit_plan(&queue, &["c"]), FAILED);
    assert_only_culprits_failed(&queue, &run, &report, &["c"]);
    let batches = batches(&report);
    let whole = batches
        .iter()
        .find(|b| members(b).len() == 5)
        .unwrap_or_else(|| panic!("no batch of the five: {batches:#?}"));
    assert_eq!(whole["outcome"], "failed");
    assert!(
        batches.iter().any(|b| b["depth"].as_u64().unwrap() > 0),
        "no bisection step: {batches:#?}"
    );
    // Bisection costs a few gate runs, far fewer than gating each of the five alone twice.
    let runs: u64 = batches
        .iter()
        .map(|b| b["gate_runs"].as_u64().unwrap())
        .sum();
    assert!(runs <= 6, "{runs} gate runs: {batches:#?}");
}

#[test]
fn a_batch_with_two_culprits_finds_both_and_merges_the_rest() {
    let queue = Queue::new("batch = 8\nlanes = 1");
    let (run, report) = queue.run(&culprit_plan(&queue, &["c", "e"]), FAILED);
    assert_only_culprits_failed(&queue, &run, &report, &["c", "e"]);
    let batches = batches(&report);
    assert!(
        batches.iter().filter(|b| b["outcome"] == "failed").count() >= 3,
        "the batch, and a part with each culprit, failed: {batches:#?}"
    );
}

#[test]
fn a_lone_culprit_right_of_a_passing_half_is_found_by_the_gate_cache() {
    // b queues before c (c bad): the batch [b, c] fails; its halves are [b] and [c]. [b]
    // passes and merges; [c] is then gated on the tip of [b], the very tree [b, c] failed on:
    // the cache answers, no gate runs.
    let queue = Queue::new("batch = 2\nlanes = 1");
    let tasks = plan_tasks(&["a", "b", "c"], bad_file_for(&["c"]), claims_with_bad);
    let gate = "! ls out/bad-* >/dev/null 2>&1";
    let (run, report) = queue.run(&queue.plan_led(&tasks, gate, Some("b")), FAILED);
    assert_eq!(task(&report, "b")["status"], "merged");
    assert_eq!(task(&report, "c")["status"], "failed");
    let batches = batches(&report);
    let pair = batches
        .iter()
        .find(|b| members(b) == ["b", "c"])
        .unwrap_or_else(|| panic!("no batch [b, c]: {batches:#?}"));
    assert_eq!(pair["outcome"], "failed");
    let lone = batches
        .iter()
        .find(|b| members(b) == ["c"] && b["outcome"] == "failed")
        .unwrap_or_else(|| panic!("c never failed alone: {batches:#?}"));
    assert_eq!(lone["cache_hits"], 1, "{lone:#}");
    assert_eq!(lone["gate_runs"], 0, "{lone:#}");
    assert_eq!(
        queue.gate_runs(),
        3,
        "a, [b, c] and [b] ran the gate; [c] did not"
    );
    assert_eq!(first_parent_tasks(&queue.baton, &run, &report), ["a", "b"]);
}

#[test]
fn speculative_gates_behind_a_failure_are_cancelled() {
    // Batches of 2 on 2 merge lanes: two batches of the four after `a` are gated at once, the
    // second on the first's tip. c is bad and heads the first, which fails after 1 s; the
    // second's gate (which would sleep 30 s) is cancelled then, not waited for.
    let queue = Queue::new("batch = 2\nlanes = 2");
    let ids = ["a", "b", "c", "d", "e"];
    let tasks = plan_tasks(&ids, bad_file_for(&["c"]), claims_with_bad);
    // c queues first: [c, x] is stage 0 (3 files in out/ with a's), [y, z] stage 1 on its
    // tip (5 files): the gate fails at once on 3 files with c's bad file, and sleeps 30 s
    // before failing on 5.
    let gate = "if ls out/bad-* >/dev/null 2>&1; then \
                [ $(ls out/*.txt | wc -l) -ge 5 ] && sleep 30; exit 1; fi";
    let (run, report) = queue.run(&queue.plan_led(&tasks, gate, Some("c")), FAILED);
    let batches = batches(&report);
    let speculative = batches
        .iter()
        .find(|b| b["stage"] == 1 && b["outcome"] == "discarded")
        .unwrap_or_else(|| panic!("no discarded speculative batch: {batches:#?}"));
    // Its gate was stopped, not run to an end: the gate result is not an exit.
    let item = speculative["items"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    let gates: Vec<Value> = report["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["gates"].as_array().unwrap().clone())
        .filter(|g| g["merge_item"] == item)
        .collect();
    assert!(
        gates
            .iter()
            .any(|g| g["passed"] == false && g["end"]["kind"] == "cancelled"),
        "the speculative gate was not cancelled: {gates:#?}"
    );
    for id in ["a", "b", "d", "e"] {
        assert_eq!(task(&report, id)["status"], "merged", "{id}");
    }
    assert_eq!(task(&report, "c")["status"], "failed");
    let merged = first_parent_tasks(&queue.baton, &run, &report);
    assert_eq!(merged.len(), 4);
}

#[test]
fn a_conflict_inside_a_batch_takes_out_only_the_conflicting_item() {
    // c and d both append to shared.txt (shared claims may run together): c queues first, so
    // in the batch [c, b, d, e] (some order after c) d conflicts with c, which is ahead of it;
    // the rest of the batch merges and d runs again on the new head, where it merges.
    let queue = Queue::new("batch = 8\nlanes = 1");
    queue
        .baton
        .commit_file("shared.txt", "base\n", "a file two tasks change");
    let ids = ["a", "b", "c", "d", "e"];
    let tasks = plan_tasks(
        &ids,
        |id| match id {
            "c" | "d" => format!("echo from-{id} >> shared.txt && "),
            _ => String::new(),
        },
        |id| format!("[\"out/{id}.txt\", \"shared:shared.txt\"]"),
    );
    let (run, report) = queue.run(&queue.plan_led(&tasks, "true", Some("c")), OK);
    for id in ids {
        assert_eq!(task(&report, id)["status"], "merged", "{id}: {report:#}");
    }
    let items = report["merge_queue"].as_array().unwrap();
    let conflicted: Vec<&Value> = items
        .iter()
        .filter(|i| i["status"] == "conflicted")
        .collect();
    assert_eq!(conflicted.len(), 1, "{items:#?}");
    assert_eq!(conflicted[0]["task"], "d");
    let batches = batches(&report);
    let with_c = batches
        .iter()
        .find(|b| members(b).contains(&"c".to_string()))
        .unwrap();
    assert!(!members(with_c).contains(&"d".to_string()), "{batches:#?}");
    assert!(members(with_c).len() >= 2, "{batches:#?}");
    let shared = queue
        .baton
        .read_at(&run_head(&queue, &run), "shared.txt")
        .unwrap();
    assert!(
        shared.contains("from-c") && shared.contains("from-d"),
        "{shared}"
    );
}

#[test]
fn a_speculative_gate_that_moves_the_integration_branch_to_its_tip_is_undone() {
    // Every merge gate, speculative ones included, tries to publish the tip it gates by moving
    // the integration branch there itself. baton puts the branch back each time; only its own
    // compare-and-swap, after the stages before it passed, moves the branch.
    let queue = Queue::new("batch = 2\nlanes = 2");
    let ids = ["a", "b", "c", "d", "e"];
    let tasks = plan_tasks(&ids, nothing, claims);
    let gate = "git update-ref refs/heads/baton/$BATON_RUN_ID/integration HEAD; true";
    let (run, report) = queue.run(&queue.plan_led(&tasks, gate, Some("b")), OK);
    let tampered: Vec<Value> = queue
        .baton
        .events(&run)
        .into_iter()
        .filter(|e| e["type"] == "integration.tampered")
        .collect();
    assert!(!tampered.is_empty(), "no gate's move was noticed");
    let batches = batches(&report);
    assert!(
        batches.iter().any(|b| b["stage"] == 1),
        "nothing was gated speculatively: {batches:#?}"
    );
    // The head is a passed batch's tip, and every task is on the branch exactly once.
    let head = run_head(&queue, &run);
    assert!(
        batches
            .iter()
            .any(|b| b["tip"] == head.as_str() && b["outcome"] == "passed"),
        "the head {head} is not a passed batch tip: {batches:#?}"
    );
    let mut merged = first_parent_tasks(&queue.baton, &run, &report);
    merged.sort();
    assert_eq!(merged, ids);
}
