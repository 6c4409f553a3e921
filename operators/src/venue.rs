//! venue (in progress)
