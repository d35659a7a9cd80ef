//! Evaluation scenarios, built from typed inputs.
