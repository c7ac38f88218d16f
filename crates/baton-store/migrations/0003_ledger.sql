-- The usage ledger: one row per agent attempt, written when the attempt's agent ends. Token
-- counts by kind; dollars in integer micro-dollars; `cost_micros` is NULL when the cost is
-- unknown (never 0 for unknown), with `cost_basis` saying how the dollars were obtained.
CREATE TABLE ledger (
    run_id              TEXT NOT NULL,
    task_id             TEXT NOT NULL,
    attempt             INTEGER NOT NULL,
    agent               TEXT NOT NULL,
    model               TEXT,
    input_tokens        INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens       INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens    INTEGER NOT NULL DEFAULT 0,
    cost_micros         INTEGER,
    cost_basis          TEXT NOT NULL,
    price_version       TEXT,
    recorded_at         TEXT NOT NULL,
    PRIMARY KEY (run_id, task_id, attempt)
);

CREATE INDEX ledger_by_time ON ledger (recorded_at);
