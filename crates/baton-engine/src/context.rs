//! What every step of a run needs, shared by the driver, the attempts and the merge queue.

use crate::home::Home;
use baton_core::{Dag, Plan};
use baton_git::{Git, LanePool};
use baton_protocol::{Event, RunId, TaskId};
use baton_store::{RunRow, Store};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Publishes events to live watchers (the CLI's progress display) after they are stored.
#[derive(Clone, Debug)]
pub struct Bus {
    sender: broadcast::Sender<Event>,
}

impl Bus {
    pub(crate) fn new() -> Bus {
        let (sender, _) = broadcast::channel(4096);
        Bus { sender }
    }

    /// A receiver of every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.sender.subscribe()
    }

    pub(crate) fn emit(&self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            // No receiver is fine: nobody is watching live.
            let _ = self.sender.send(event);
        }
    }
}

/// One run being driven by this engine.
pub(crate) struct RunCtx {
    pub store: Store,
    pub bus: Bus,
    pub home: Home,
    pub git: Git,
    pub pool: LanePool,
    /// The repository root as the lanes table names it.
    pub lane_repo: String,
    pub run: RunRow,
    pub plan: Plan,
    pub dag: Dag,
    pub cancel: CancellationToken,
}

impl RunCtx {
    pub fn id(&self) -> &RunId {
        &self.run.id
    }

    /// The branch a task's attempts run on.
    pub fn task_branch(&self, task: &TaskId) -> String {
        format!("baton/{}/tasks/{}", self.run.id, task)
    }

    /// Emits events that were just written to the store.
    pub fn emit(&self, events: impl IntoIterator<Item = Event>) {
        self.bus.emit(events);
    }
}
