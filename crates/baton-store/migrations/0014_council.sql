-- The escalation ladder. `council_due`: the task's next attempt is a council (set when its
-- retries and fallbacks ran out, cleared when the council ends; an interrupted council runs
-- again). `council_candidates`: one row per candidate of a council; each candidate is an
-- attempt of its own (agent, lane, ledger row), `council` is the first attempt number of its
-- council, and `verdict` the judge's words, written on every row when the council ends.
ALTER TABLE tasks ADD COLUMN council_due INTEGER NOT NULL DEFAULT 0;
CREATE TABLE council_candidates (
    run_id           TEXT NOT NULL,
    task_id          TEXT NOT NULL,
    attempt          INTEGER NOT NULL,
    council          INTEGER NOT NULL,
    member           INTEGER NOT NULL,
    agent            TEXT NOT NULL,
    lane             TEXT NOT NULL,
    passed           INTEGER,
    failure          TEXT,
    diff_lines       INTEGER,
    reviews_approved INTEGER,
    high_issues      INTEGER NOT NULL DEFAULT 0,
    task_commit      TEXT,
    winner           INTEGER NOT NULL DEFAULT 0,
    verdict          TEXT,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, attempt)
);
CREATE INDEX council_candidates_task ON council_candidates(run_id, task_id, council);
