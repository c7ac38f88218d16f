//! baton-core (work in progress)
