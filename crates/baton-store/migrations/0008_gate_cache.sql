-- The gate-result cache: a gate's result is a function of its command and the tree it ran on,
-- so a run never runs the same gate twice on the same tree. `tree` is the tree id gated;
-- `cached` marks a result taken from an earlier run of the gate on that tree.
ALTER TABLE gate_results ADD COLUMN tree TEXT;
ALTER TABLE gate_results ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
CREATE INDEX gate_results_by_tree ON gate_results (run_id, gate, tree);
