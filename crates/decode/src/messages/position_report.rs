//! Position reports: Class A (types 1, 2, 3), Class B (18), extended Class B
//! (19), SAR aircraft (9) and long-range broadcast (27).
//!
//! Fields keep gpsd's names and raw units: `lon`/`lat` in 1/10 000 minute
//! (type 27: 1/10 minute), `speed` in 1/10 knot, `course` in 1/10 degree.
//! The scaled, sentinel-free view is [`crate::VesselPosition`].

use super::layout::layout;
use crate::text::AisText;

layout! {
    /// Class A position report, message types 1, 2 and 3 (ITU-R M.1371-5 §3.1).
    pub struct PositionReport {
        /// Navigational status 0..15; 15 = not defined.
        status: u8 = (38, 4),
        /// Rate of turn, raw ROT_AIS (−128 = not available).
        turn: i8 = (42, 8),
        /// Speed over ground in 1/10 knot (1023 = not available).
        speed: u16 = (50, 10),
        /// Position accuracy flag (true: < 10 m).
        accuracy: bool = (60, 1),
        /// Longitude in 1/10 000 minute (181° = not available).
        lon: i32 = (61, 28),
        /// Latitude in 1/10 000 minute (91° = not available).
        lat: i32 = (89, 27),
        /// Course over ground in 1/10 degree (3600 = not available).
        course: u16 = (116, 12),
        /// True heading in degrees (511 = not available).
        heading: u16 = (128, 9),
        /// UTC second of the report (60..63: not available or special).
        second: u8 = (137, 6),
        /// Manoeuvre indicator.
        maneuver: u8 = (143, 2),
        /// RAIM flag.
        raim: bool = (148, 1),
        /// Radio status (communication state).
        radio: u32 = (149, 19),
    }
}

layout! {
    /// Standard Class B CS position report, message type 18.
    pub struct ClassBPositionReport {
        /// Regional reserved bits.
        reserved: u8 = (38, 8),
        /// Speed over ground in 1/10 knot.
        speed: u16 = (46, 10),
        /// Position accuracy flag.
        accuracy: bool = (56, 1),
        /// Longitude in 1/10 000 minute.
        lon: i32 = (57, 28),
        /// Latitude in 1/10 000 minute.
        lat: i32 = (85, 27),
        /// Course over ground in 1/10 degree.
        course: u16 = (112, 12),
        /// True heading in degrees.
        heading: u16 = (124, 9),
        /// UTC second.
        second: u8 = (133, 6),
        /// Regional reserved.
        regional: u8 = (139, 2),
        /// Carrier-sense unit flag.
        cs: bool = (141, 1),
        /// Has a display.
        display: bool = (142, 1),
        /// Has DSC.
        dsc: bool = (143, 1),
        /// Whole marine band.
        band: bool = (144, 1),
        /// Accepts message 22 channel management.
        msg22: bool = (145, 1),
        /// Assigned mode.
        assigned: bool = (146, 1),
        /// RAIM flag.
        raim: bool = (147, 1),
        /// Radio status.
        radio: u32 = (148, 20),
    }
}

layout! {
    /// Extended Class B CS position report, message type 19.
    pub struct ExtendedClassBPositionReport {
        /// Regional reserved bits.
        reserved: u8 = (38, 8),
        /// Speed over ground in 1/10 knot.
        speed: u16 = (46, 10),
        /// Position accuracy flag.
        accuracy: bool = (56, 1),
        /// Longitude in 1/10 000 minute.
        lon: i32 = (57, 28),
        /// Latitude in 1/10 000 minute.
        lat: i32 = (85, 27),
        /// Course over ground in 1/10 degree.
        course: u16 = (112, 12),
        /// True heading in degrees.
        heading: u16 = (124, 9),
        /// UTC second.
        second: u8 = (133, 6),
        /// Regional reserved.
        regional: u8 = (139, 4),
        /// Vessel name.
        shipname: AisText<20> = (143, 20),
        /// Ship and cargo type.
        shiptype: u8 = (263, 8),
        /// Dimension to bow, metres.
        to_bow: u16 = (271, 9),
        /// Dimension to stern, metres.
        to_stern: u16 = (280, 9),
        /// Dimension to port, metres.
        to_port: u8 = (289, 6),
        /// Dimension to starboard, metres.
        to_starboard: u8 = (295, 6),
        /// Position fix type.
        epfd: u8 = (301, 4),
        /// RAIM flag.
        raim: bool = (305, 1),
        /// Data terminal equipment ready (0 = ready).
        dte: bool = (306, 1),
        /// Assigned mode.
        assigned: bool = (307, 1),
    }
}

layout! {
    /// Standard SAR aircraft position report, message type 9.
    pub struct SarAircraftPositionReport {
        /// Altitude in metres (4095 = not available).
        alt: u16 = (38, 12),
        /// Speed over ground in knots (1023 = not available).
        speed: u16 = (50, 10),
        /// Position accuracy flag.
        accuracy: bool = (60, 1),
        /// Longitude in 1/10 000 minute.
        lon: i32 = (61, 28),
        /// Latitude in 1/10 000 minute.
        lat: i32 = (89, 27),
        /// Course over ground in 1/10 degree.
        course: u16 = (116, 12),
        /// UTC second.
        second: u8 = (128, 6),
        /// Regional reserved.
        regional: u8 = (134, 8),
        /// Data terminal equipment ready.
        dte: u8 = (142, 1),
        /// Assigned mode.
        assigned: bool = (146, 1),
        /// RAIM flag.
        raim: bool = (147, 1),
        /// Radio status.
        radio: u32 = (148, 20),
    }
}

layout! {
    /// Long-range AIS broadcast (satellite), message type 27.
    pub struct LongRangeBroadcast {
        /// Position accuracy flag.
        accuracy: bool = (38, 1),
        /// RAIM flag.
        raim: bool = (39, 1),
        /// Navigational status.
        status: u8 = (40, 4),
        /// Longitude in 1/10 minute (181° = not available).
        lon: i32 = (44, 18),
        /// Latitude in 1/10 minute (91° = not available).
        lat: i32 = (62, 17),
        /// Speed over ground in knots (63 = not available).
        speed: u8 = (79, 6),
        /// Course over ground in degrees (511 = not available).
        course: u16 = (85, 9),
        /// GNSS position status (false = current GNSS position).
        gnss: bool = (94, 1),
    }
}
