//! StarModel's SQL store (being written).
