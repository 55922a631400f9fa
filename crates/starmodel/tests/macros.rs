//! trybuild tests for `#[derive(Entity)]`, `#[events]` and `#[event]`: what must
//! compile (and behave) and what must not, with the exact compiler message.
//!
//! Refresh the `.stderr` snapshots with
//! `TRYBUILD=overwrite cargo test -p starmodel --test macros` and read every diff:
//! a snapshot is the message a user will see.

#[test]
fn macros() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
