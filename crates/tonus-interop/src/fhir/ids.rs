//! Ids for resources that have no record uid.

/// A deterministic UUID-shaped id from the patient and what it names: the Patient's and the
/// Bundle's ids, and a record's when it has no uid (records built in memory, never stored).
/// A stored record's id is its uid (issue #13): an id from its position changed whenever
/// an earlier record was deleted.
pub(super) fn uuid(parts: &[&str]) -> String {
    let hash = |salt: u64| {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
        for p in parts {
            for b in p.bytes().chain(std::iter::once(0x1f)) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        h
    };
    let (a, b) = (hash(1), hash(2));
    format!(
        "{:08x}-{:04x}-5{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0x0fff,
        0x8000 | (b >> 48) & 0x3fff,
        b & 0xffff_ffff_ffff
    )
}
