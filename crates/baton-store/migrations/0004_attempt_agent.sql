-- Which agent ran an attempt and the client session it reported, so that a retry with the same
-- agent can resume the conversation (`claude --resume ID`, `codex exec resume ID`, ...).
ALTER TABLE attempts ADD COLUMN agent TEXT;
ALTER TABLE attempts ADD COLUMN session_id TEXT;
