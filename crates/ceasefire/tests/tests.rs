//! Tests of the ceasefire monitor.
