//! baton-git (work in progress)
