//! Random ids: for records created without one, and for outbox entries.

/// A random (version 4) UUID in its hyphenated form.
///
/// ```
/// let id = starmodel_core::entity::new_uuid_v4();
/// assert!(starmodel_core::entity::is_uuid(&id));
/// ```
pub fn new_uuid_v4() -> String {
    let mut b = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut b) {
        // Without an OS random source no id can be safe.
        panic!("the operating system's random source failed: {e}");
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use crate::entity::is_uuid;

    use super::*;

    #[test]
    fn uuids_are_hyphenated_hex() {
        let id = new_uuid_v4();
        assert!(is_uuid(&id), "{id}");
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]));
        assert_ne!(id, new_uuid_v4());
    }
}
