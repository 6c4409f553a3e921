//! equity (in progress)
