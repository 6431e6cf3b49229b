//! Base station report (type 4) and UTC/date response (type 11): same layout.

use super::layout::layout;

layout! {
    /// Base station report (type 4) or UTC and date response (type 11).
    pub struct BaseStationReport {
        /// UTC year (0 = not available).
        year: u16 = (38, 14),
        /// UTC month (0 = not available).
        month: u8 = (52, 4),
        /// UTC day (0 = not available).
        day: u8 = (56, 5),
        /// UTC hour (24 = not available).
        hour: u8 = (61, 5),
        /// UTC minute (60 = not available).
        minute: u8 = (66, 6),
        /// UTC second (60 = not available).
        second: u8 = (72, 6),
        /// Position accuracy flag.
        accuracy: bool = (78, 1),
        /// Longitude in 1/10 000 minute.
        lon: i32 = (79, 28),
        /// Latitude in 1/10 000 minute.
        lat: i32 = (107, 27),
        /// Position fix type.
        epfd: u8 = (134, 4),
        /// RAIM flag.
        raim: bool = (148, 1),
        /// Radio status.
        radio: u32 = (149, 19),
    }
}
