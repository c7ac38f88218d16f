-- What runs produce besides code: plans, the planner's raw output, task lists, reviews, diffs
-- and reports. `run_id` is NULL for an artifact made before any run (`baton plan new`); the
-- content is also written as a file at `path` (under $BATON_HOME) on `host`.
CREATE TABLE artifacts (
    id          TEXT PRIMARY KEY,
    run_id      TEXT,
    task_id     TEXT,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    content     TEXT NOT NULL,
    path        TEXT NOT NULL,
    host        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE INDEX artifacts_by_run ON artifacts (run_id, created_at);
