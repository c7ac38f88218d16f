//! Ownership of a run: one live engine at a time. The lease names the owner's pid and host and
//! is renewed by a heartbeat; a lease whose owner is dead (same host, pid gone) or silent (no
//! heartbeat for a while) may be taken over.

use crate::EngineError;
use baton_protocol::RunId;
use baton_store::{Lease, RunRow, Store, now_millis};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the owner renews its lease and looks for a cancel request.
const HEARTBEAT_EVERY: Duration = Duration::from_millis(250);
/// A lease not renewed for this long is dead even if its pid seems alive (pid reuse, other host).
const STALE_AFTER_MS: i64 = 15_000;

/// This machine's name.
pub(crate) fn host_name() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into())
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None) {
        Ok(()) => true,
        Err(nix::errno::Errno::EPERM) => true,
        Err(_) => false,
    }
}

/// Whether the lease's owner is still alive.
pub(crate) fn is_live(lease: &Lease) -> bool {
    let fresh = now_millis() - lease.heartbeat_ms < STALE_AFTER_MS;
    if lease.host == host_name() {
        fresh && pid_alive(lease.pid)
    } else {
        fresh
    }
}

/// Takes the run's lease, or explains who holds it.
pub(crate) async fn acquire(store: &Store, run: &RunRow) -> Result<Lease, EngineError> {
    let lease = Lease {
        pid: std::process::id(),
        host: host_name(),
        token: format!("{:016x}", rand::random::<u64>()),
        heartbeat_ms: now_millis(),
    };
    let mut current = run.lease.clone();
    for _ in 0..3 {
        if let Some(holder) = current.as_ref().filter(|l| is_live(l)) {
            return Err(EngineError::Owned {
                run: run.id.clone(),
                pid: holder.pid,
                host: holder.host.clone(),
            });
        }
        let expected = current.as_ref().map(|l| l.token.as_str());
        if store.take_lease(&run.id, expected, &lease).await? {
            return Ok(lease);
        }
        current = store.run(&run.id).await?.lease;
    }
    Err(EngineError::Inconsistent {
        run: run.id.clone(),
        what: "its lease keeps changing hands; is another baton resuming it?".into(),
    })
}

/// The heartbeat of a held lease.
pub(crate) struct Heartbeat {
    stop: CancellationToken,
    lost: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Heartbeat {
    /// Stops the heartbeat; true if the lease was lost while it ran.
    pub async fn stop(self) -> bool {
        self.stop.cancel();
        let _ = self.task.await;
        self.lost.load(Ordering::SeqCst)
    }
}

/// Renews the lease until stopped; cancels `cancel` when a cancel is requested or the lease is
/// lost.
pub(crate) fn keep(
    store: Store,
    run: RunId,
    token: String,
    cancel: CancellationToken,
) -> Heartbeat {
    let stop = CancellationToken::new();
    let lost = Arc::new(AtomicBool::new(false));
    let task = {
        let stop = stop.clone();
        let lost = Arc::clone(&lost);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(HEARTBEAT_EVERY);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ticker.tick() => {}
                }
                match store.heartbeat(&run, &token, now_millis()).await {
                    Ok(true) => {}
                    Ok(false) => {
                        lost.store(true, Ordering::SeqCst);
                        cancel.cancel();
                        return;
                    }
                    Err(error) => tracing::warn!("heartbeat of run {run} failed: {error}"),
                }
                if let Ok(true) = store.cancel_requested(&run).await {
                    cancel.cancel();
                }
            }
        })
    };
    Heartbeat { stop, lost, task }
}
