-- Where a task waits for a person, why, and since when: one row per task that waited (kept
-- after the decision; a later wait of the same task replaces it). `point` is `start` (before
-- its agent) or `delivery` (gates passed, before the merge queue: `attempt` and `task_commit`
-- are the change to deliver). `risk` is set when risk, not cost, is why it waits.
CREATE TABLE approval_waits (
    run_id       TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    point        TEXT NOT NULL,
    risk         TEXT,
    reason       TEXT NOT NULL,
    attempt      INTEGER,
    task_commit  TEXT,
    requested_at TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);

-- The audit of a decision: who took it, where the task waited and why, and for a delivery the
-- commit it lets through (a later attempt's different change waits again).
ALTER TABLE approvals ADD COLUMN decided_by TEXT;
ALTER TABLE approvals ADD COLUMN point TEXT;
ALTER TABLE approvals ADD COLUMN waited_for TEXT;
ALTER TABLE approvals ADD COLUMN task_commit TEXT;
