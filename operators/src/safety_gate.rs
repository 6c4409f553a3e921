//! safety_gate (in progress)
