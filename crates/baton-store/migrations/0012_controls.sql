-- A person's controls (baton pause, retry, reassign, reset): a pause the run's owner honours
-- at its next poll, and what a task's next attempts run instead of the plan's agent and
-- prompt. The audit record of every control is its `control.applied` event.
ALTER TABLE runs ADD COLUMN pause_requested INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN agent_override TEXT;
ALTER TABLE tasks ADD COLUMN prompt_override TEXT;
