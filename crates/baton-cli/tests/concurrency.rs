#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several baton processes on one `BATON_HOME` at once.

mod support;

use support::{Baton, OK};

#[test]
fn readers_opening_the_database_while_a_run_writes_it_all_succeed() {
    let b = Baton::new();
    let plan = "version: 1\ngoal: busy\nlanes: 3\ntasks:\n".to_string()
        + &(0..6)
            .map(|n| {
                format!("  - id: t{n}\n    run: \"echo {n} > f{n}\"\n    claims: [\"f{n}\"]\n")
            })
            .collect::<String>();
    let finished: Vec<support::Finished> = std::thread::scope(|scope| {
        let run = scope.spawn(|| b.run_plan(&plan, &[]).0);
        let readers: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    (0..5)
                        .map(|_| b.baton(&["status", "--json"]))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<support::Finished> = readers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.push(run.join().unwrap());
        all
    });
    for done in &finished {
        done.expect_code(OK);
    }
}
