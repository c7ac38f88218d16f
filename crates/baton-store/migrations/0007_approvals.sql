-- A person's decisions on tasks whose estimated cost is past the approval threshold. The task
-- `*` stands for every task of the run (`--auto-approve`).
CREATE TABLE approvals (
    run_id      TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    approved    INTEGER NOT NULL,
    agent       TEXT,
    why         TEXT,
    decided_at  TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id)
);
