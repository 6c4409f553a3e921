//! positions (in progress)
