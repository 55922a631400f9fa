//! Migrations (being written).
