-- Merge batches: a group of queued items whose merge chain is gated once, on its tip.
-- `stage` is its place in a round of speculative gates (0: on the integration head, k: on the
-- tip of stage k-1); `depth` is 0 for a fresh batch and n for a part of a failed batch split n
-- times (bisection). `items` and `tasks` list the members in queue order, comma-separated.
-- `outcome` is NULL while its gates run, then passed, failed or discarded (built on a tip that
-- did not become the head, or not run to an end).
CREATE TABLE merge_batches (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      TEXT NOT NULL,
    stage       INTEGER NOT NULL,
    depth       INTEGER NOT NULL,
    base        TEXT NOT NULL,
    tip         TEXT NOT NULL,
    tree        TEXT NOT NULL,
    items       TEXT NOT NULL,
    tasks       TEXT NOT NULL,
    outcome     TEXT,
    created_at  TEXT NOT NULL,
    finished_at TEXT
);
CREATE INDEX merge_batches_by_run ON merge_batches (run_id, id);
ALTER TABLE gate_results ADD COLUMN batch_id INTEGER;
