-- baton's state. Every status column holds the text form of a baton-protocol status enum and
-- changes only through the compare-and-set transitions in baton-store, each together with an event.

CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    repo             TEXT NOT NULL,
    goal             TEXT NOT NULL,
    status           TEXT NOT NULL,
    plan_origin      TEXT NOT NULL,
    plan_source      TEXT NOT NULL,
    base_ref         TEXT NOT NULL,
    base_commit      TEXT NOT NULL,
    integration_ref  TEXT NOT NULL,
    lanes            INTEGER NOT NULL,
    into_branch      TEXT,
    into_expected    TEXT,
    created_at       TEXT NOT NULL,
    finished_at      TEXT,
    lease_pid        INTEGER,
    lease_host       TEXT,
    lease_token      TEXT,
    lease_heartbeat  INTEGER,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE tasks (
    run_id           TEXT NOT NULL REFERENCES runs(id),
    id               TEXT NOT NULL,
    position         INTEGER NOT NULL,
    title            TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    failures         INTEGER NOT NULL DEFAULT 0,
    failures_allowed INTEGER NOT NULL,
    conflicts        INTEGER NOT NULL DEFAULT 0,
    task_commit      TEXT,
    merge_commit     TEXT,
    last_failure     TEXT,
    started_at       TEXT,
    finished_at      TEXT,
    PRIMARY KEY (run_id, id)
);

CREATE TABLE attempts (
    run_id        TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    number        INTEGER NOT NULL,
    status        TEXT NOT NULL,
    lane          TEXT NOT NULL,
    start_commit  TEXT NOT NULL,
    agent_end     TEXT,
    task_commit   TEXT,
    changed_paths TEXT,
    failure       TEXT,
    output        TEXT,
    log_path      TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    finished_at   TEXT,
    PRIMARY KEY (run_id, task_id, number)
);

CREATE TABLE gate_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    attempt     INTEGER,
    merge_item  INTEGER,
    gate        TEXT NOT NULL,
    passed      INTEGER NOT NULL,
    end_reason  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    output      TEXT NOT NULL,
    finished_at TEXT NOT NULL
);

CREATE TABLE merge_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status       TEXT NOT NULL,
    task_commit  TEXT NOT NULL,
    checked_head TEXT,
    merge_commit TEXT,
    detail       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX merge_items_run ON merge_items(run_id, status);

CREATE TABLE events (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    time    TEXT NOT NULL,
    run_id  TEXT NOT NULL,
    task_id TEXT,
    type    TEXT NOT NULL,
    version INTEGER NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX events_run ON events(run_id, seq);

CREATE TABLE lanes (
    repo     TEXT NOT NULL,
    name     TEXT NOT NULL,
    path     TEXT NOT NULL,
    run_id   TEXT,
    task_id  TEXT,
    purpose  TEXT,
    PRIMARY KEY (repo, name)
);

CREATE TABLE processes (
    run_id     TEXT NOT NULL,
    pgid       INTEGER NOT NULL,
    pid        INTEGER NOT NULL,
    task_id    TEXT,
    what       TEXT NOT NULL,
    started_at TEXT NOT NULL,
    PRIMARY KEY (run_id, pgid)
);
