-- `baton stop RUN TASK` asks the engine that owns the run to stop one running attempt. The
-- request is a flag on the attempt, seen by the owner's next poll (at most a quarter second).
ALTER TABLE attempts ADD COLUMN stop_requested INTEGER NOT NULL DEFAULT 0;
