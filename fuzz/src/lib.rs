//! What the fuzz targets share: a fixed "now" and a few time zones, so a crash found on one
//! day reproduces on any other (the importers bound dates by "not in the future").

use jiff::Timestamp;
use tonus_domain::time::Zone;

/// The reference instant of every target (2030-01-01T00:00:00Z). A constant, so the same
/// input always takes the same path; ahead of today, so seed files exported now stay "in the
/// past" for years.
pub fn now() -> Timestamp {
    Timestamp::from_second(1_893_456_000).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Zones with and without daylight saving, with a half-hour offset, and both date-line sides.
pub const ZONES: [&str; 6] = [
    "UTC",
    "Europe/Paris",
    "America/New_York",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
];

/// A zone chosen by one input byte.
pub fn zone(selector: u8) -> Zone {
    Zone::parse(ZONES[usize::from(selector) % ZONES.len()]).unwrap_or_else(|_| Zone::utc())
}
