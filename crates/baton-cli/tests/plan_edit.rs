#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `baton plan edit RUN`: a run that waits before its first task (here for the approval of a
//! high-risk migration) takes an edited plan from the person's editor (a real program, a
//! script), checked like `baton run --plan`, recorded as an audited control; refused edits
//! (a broken plan, another base, a run that has started) change nothing and keep the edit.

mod support;

use std::path::{Path, PathBuf};
use support::{BAD_INPUT, Baton, FAILED, OK, task};

const PAUSED: i32 = 4;

/// One task that writes a migration: high risk, it waits for approval before it starts.
const MIGRATION: &str = r#"version: 1
goal: "Add the table"
tasks:
  - id: migrate
    run: "mkdir -p migrations && echo 'create table t;' > migrations/0001.sql"
    claims: ["migrations/**"]
"#;

/// An editor that runs `sed EXPR` on the file it is given.
fn sed_editor(baton: &Baton, name: &str, expr: &str) -> PathBuf {
    let path = baton.scratch("editors").join(name);
    support::write_program(&path, format!("#!/bin/sh\nsed -i '{expr}' \"$1\"\n"));
    path
}

fn edit(baton: &Baton, run: &str, editor: &Path) -> support::Finished {
    baton.baton_with_env(
        baton.path(),
        &["plan", "edit", run, "--json"],
        &[("EDITOR", editor), ("USER", Path::new("ada"))],
    )
}

fn waiting_run(baton: &Baton) -> String {
    let plan = baton.plan("plan.yaml", MIGRATION);
    baton
        .baton(&["run", "--plan", plan.to_str().unwrap()])
        .expect_code(PAUSED);
    let run = baton.run_ids()[0].clone();
    assert_eq!(baton.status(&run)["status"], "awaiting_approval");
    run
}

#[test]
fn a_run_waiting_before_its_first_task_takes_the_edited_plan() {
    let baton = Baton::new();
    let run = waiting_run(&baton);
    // The person replaces the migration by a note, which needs no approval.
    let editor = sed_editor(
        &baton,
        "to-notes",
        "s|mkdir -p migrations \\&\\& echo .create table t;. > migrations/0001.sql|echo note > note.txt|; s|migrations/\\*\\*|note.txt|; s|id: migrate|id: note|",
    );
    let done = edit(&baton, &run, &editor);
    done.expect_code(OK);
    let edited = done.json();
    assert_eq!(edited["tasks_before"], 1);
    assert_eq!(edited["tasks_after"], 1);
    let audit: Vec<serde_json::Value> = baton
        .events(&run)
        .into_iter()
        .filter(|e| e["type"] == "control.applied")
        .collect();
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["data"]["command"], "plan-edit");
    assert_eq!(audit[0]["data"]["who"], "ada");
    baton.baton(&["resume", &run]).expect_code(OK);
    let report = baton.report(&run);
    assert_eq!(task(&report, "note")["status"], "merged", "{report:#}");
    assert_eq!(report["tasks"].as_array().unwrap().len(), 1);
    let head = baton.integration(&run);
    assert_eq!(baton.read_at(&head, "note.txt").as_deref(), Some("note\n"));
    assert_eq!(baton.read_at(&head, "migrations/0001.sql"), None);
    // The edited plan is the run's newest plan artifact.
    let kinds = baton.artifact_kinds(&run);
    assert_eq!(kinds[0], "plan", "{kinds:?}");
}

#[test]
fn refused_edits_change_nothing_and_keep_the_edit() {
    let baton = Baton::new();
    let run = waiting_run(&baton);
    let before = baton.status(&run);

    // A dep on no task: the plan's own checks, at the line.
    let broken = sed_editor(
        &baton,
        "broken",
        "s|    claims:|    deps: [nothing]\\n    claims:|",
    );
    let done = edit(&baton, &run, &broken);
    done.expect_code(BAD_INPUT);
    assert!(
        done.stderr
            .contains("plan.yaml:6:12: task \"migrate\" depends on \"nothing\""),
        "{}",
        done.stderr
    );
    let kept = done
        .stderr
        .split("your edit is in ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .map(|p| p.trim_end_matches(':').to_owned())
        .unwrap_or_else(|| panic!("no kept path in {}", done.stderr));
    assert!(
        std::fs::read_to_string(&kept)
            .unwrap()
            .contains("deps: [nothing]"),
        "the person's edit is kept"
    );
    std::fs::remove_dir_all(Path::new(&kept).parent().unwrap()).unwrap();

    // Another base branch than the run's.
    baton.git(&["branch", "other"]);
    let rebased = sed_editor(&baton, "rebased", "s|^goal:|base: other\\ngoal:|");
    let done = edit(&baton, &run, &rebased);
    done.expect_code(BAD_INPUT);
    assert!(
        done.stderr.contains("is not the run's base"),
        "{}",
        done.stderr
    );

    // An editor that fails saves nothing.
    let failing = baton.scratch("editors").join("fails");
    support::write_program(&failing, "#!/bin/sh\nexit 3\n");
    edit(&baton, &run, &failing).expect_code(FAILED);

    // An unknown run.
    edit(&baton, "20990101-000000-0000", &broken).expect_code(BAD_INPUT);

    assert_eq!(baton.status(&run), before, "nothing changed");
    assert!(
        baton
            .events(&run)
            .iter()
            .all(|e| e["type"] != "control.applied"),
        "no audit record of a refused edit"
    );

    // Once a task has started, the plan is the run's history: refused.
    baton.baton(&["approve", &run, "migrate"]).expect_code(OK);
    baton.baton(&["resume", &run]).expect_code(OK);
    let renamed = sed_editor(&baton, "renamed", "s|^goal: .*|goal: \"Other\"|");
    let done = edit(&baton, &run, &renamed);
    done.expect_code(BAD_INPUT);
    assert!(
        done.stderr.contains("only before its tasks start"),
        "{}",
        done.stderr
    );
}
