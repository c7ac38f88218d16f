//! Named fail points for crash tests: `BATON_FAILPOINT=name` (or `name@N` for the N-th time
//! the point is reached) makes the engine kill itself with SIGKILL at that point, exactly as
//! `kill -9` would. `name:panic` (or `name@N:panic`) panics there instead, to test that a
//! panicking attempt winds the drive down. Unset, a fail point costs one relaxed atomic load.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

/// The environment variable that arms a fail point.
pub const ENV_FAILPOINT: &str = "BATON_FAILPOINT";

/// Every fail point the engine has, on both sides of each effect.
pub const FAIL_POINTS: &[&str] = &[
    "lane.prepare.before",
    "lane.prepare.after",
    "agent.start.before",
    "agent.start.after",
    "agent.exit.after",
    "agent.commit.before",
    "agent.commit.after",
    "state.enqueue.before",
    "state.enqueue.after",
    "merge.commit.before",
    "merge.commit.after",
    "batch.built.after",
    "bisect.gate.before",
    "speculation.passed.after",
    "ref.update.before",
    "ref.update.after",
    "state.merged.after",
];

struct Armed {
    name: String,
    nth: u32,
    hits: AtomicU32,
    panic: bool,
}

fn armed() -> Option<&'static Armed> {
    static ARMED: OnceLock<Option<Armed>> = OnceLock::new();
    ARMED
        .get_or_init(|| {
            let spec = std::env::var(ENV_FAILPOINT).ok()?;
            let (spec, panic) = match spec.strip_suffix(":panic") {
                Some(spec) => (spec.to_string(), true),
                None => (spec, false),
            };
            let (name, nth) = match spec.split_once('@') {
                Some((name, n)) => (name.to_string(), n.parse().unwrap_or(1)),
                None => (spec, 1),
            };
            Some(Armed {
                name,
                nth,
                hits: AtomicU32::new(0),
                panic,
            })
        })
        .as_ref()
}

/// Dies here, with SIGKILL, if this fail point is armed and reached for the armed time.
pub fn fail_point(name: &str) {
    let Some(armed) = armed() else { return };
    if armed.name != name {
        return;
    }
    let hit = armed.hits.fetch_add(1, Ordering::SeqCst) + 1;
    if hit == armed.nth {
        if armed.panic {
            // Only for tests of the wind-down: a bug in an attempt, as the engine would meet it.
            #[allow(clippy::panic)]
            {
                panic!("fail point {name} reached: panicking as asked");
            }
        }
        eprintln!("baton: fail point {name} reached, killing the engine");
        let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), nix::sys::signal::SIGKILL);
        // SIGKILL cannot be caught; nothing after this line runs.
        std::process::abort();
    }
}
