-- Rate and usage limits agents reported (subscription CLIs: "usage limit reached, resets 3am"),
-- remembered across runs: `agent: auto` and fallbacks route around an agent until `until_at`.
CREATE TABLE agent_limits (
    agent        TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    reset_at     TEXT,
    until_at     TEXT NOT NULL,
    recorded_at  TEXT NOT NULL
);
