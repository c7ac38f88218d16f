//! The plan file schema (version 1). Owned by the plan work in progress.
