-- Budgets: a ceiling in micro-dollars and/or tokens per scope (run, project = a repository
-- key, global = '*') and period (run, day, month). Spending is the ledger; reservations hold
-- the estimated maximum of each running attempt until its usage is recorded.
CREATE TABLE budgets (
    scope         TEXT NOT NULL,
    scope_key     TEXT NOT NULL,
    period        TEXT NOT NULL,
    limit_micros  INTEGER,
    limit_tokens  INTEGER,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (scope, scope_key, period)
);

CREATE TABLE reservations (
    run_id        TEXT NOT NULL,
    task_id       TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    repo          TEXT NOT NULL,
    amount_micros INTEGER NOT NULL,
    amount_tokens INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    settled_at    TEXT,
    PRIMARY KEY (run_id, task_id, attempt)
);

CREATE INDEX reservations_open ON reservations (settled_at);
