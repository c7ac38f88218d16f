-- Reviews of a change by a model: one row per review kind of an attempt's change (task_id and
-- attempt set) or of the whole run's change before delivery (both NULL). `report` is the
-- reviewer's report as JSON (baton_protocol::ReviewReport).
CREATE TABLE reviews (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     TEXT NOT NULL,
    task_id    TEXT,
    attempt    INTEGER,
    kind       TEXT NOT NULL,
    provider   TEXT NOT NULL,
    model      TEXT NOT NULL,
    approved   INTEGER NOT NULL,
    report     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX reviews_run ON reviews(run_id, task_id);
