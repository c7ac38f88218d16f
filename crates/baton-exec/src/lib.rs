//! baton-exec (work in progress)
