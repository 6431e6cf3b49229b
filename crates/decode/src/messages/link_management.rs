//! VHF data link management: UTC inquiry (10), interrogation (15), assigned
//! mode (16), data link management (20), channel management (22) and group
//! assignment (23).

use super::layout::layout;
use crate::bits::Payload;

layout! {
    /// UTC and date inquiry, type 10.
    pub struct UtcInquiry {
        /// Destination MMSI.
        dest_mmsi: u32 = (40, 30),
    }
}

layout! {
    /// Interrogation, type 15: up to three requests to two stations.
    pub struct Interrogation {
        /// First interrogated MMSI.
        mmsi1: u32 = (40, 30),
        /// First requested message type.
        type1_1: u8 = (70, 6),
        /// Its slot offset.
        offset1_1: u16 = (76, 12),
        /// Second requested message type from the first station.
        type1_2: u8 = (90, 6),
        /// Its slot offset.
        offset1_2: u16 = (96, 12),
        /// Second interrogated MMSI.
        mmsi2: u32 = (110, 30),
        /// Requested message type.
        type2_1: u8 = (140, 6),
        /// Its slot offset.
        offset2_1: u16 = (146, 12),
    }
}

layout! {
    /// Assigned mode command, type 16.
    pub struct AssignedMode {
        /// First destination MMSI.
        mmsi1: u32 = (40, 30),
        /// Its slot offset.
        offset1: u16 = (70, 12),
        /// Its increment.
        increment1: u16 = (82, 10),
        /// Second destination MMSI (0 if absent).
        mmsi2: u32 = (92, 30),
        /// Its slot offset.
        offset2: u16 = (122, 12),
        /// Its increment.
        increment2: u16 = (134, 10),
    }
}

/// One slot reservation of a data link management message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SlotReservation {
    /// Reserved offset number.
    pub offset: u16,
    /// Number of reserved consecutive slots.
    pub number: u8,
    /// Time-out in minutes.
    pub timeout: u8,
    /// Increment.
    pub increment: u16,
}

/// Data link management, type 20: up to four reservations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataLinkManagement {
    /// Reservations; zero where absent.
    pub reservations: [SlotReservation; 4],
}

impl DataLinkManagement {
    pub(crate) fn read(p: &Payload) -> Self {
        let mut d = DataLinkManagement::default();
        for (i, r) in d.reservations.iter_mut().enumerate() {
            let s = 40 + 30 * i;
            *r = SlotReservation {
                offset: p.u(s, 12) as u16,
                number: p.u(s + 12, 4) as u8,
                timeout: p.u(s + 16, 3) as u8,
                increment: p.u(s + 19, 11) as u16,
            };
        }
        d
    }

    pub(crate) fn write(&self, w: &mut Payload) -> usize {
        let used = self
            .reservations
            .iter()
            .rposition(|r| *r != SlotReservation::default());
        let used = used.map_or(1, |i| i + 1);
        for (i, r) in self.reservations.iter().take(used).enumerate() {
            let s = 40 + 30 * i;
            w.set(s, 12, r.offset as u64);
            w.set(s + 12, 4, r.number as u64);
            w.set(s + 16, 3, r.timeout as u64);
            w.set(s + 19, 11, r.increment as u64);
        }
        // ITU-R M.1371: 72, 104, 136 or 160 bits.
        [72, 104, 136, 160][used - 1]
    }
}

layout! {
    /// Channel management fields common to both forms, type 22.
    pub struct ChannelManagementCommon {
        /// Channel A number.
        channel_a: u16 = (40, 12),
        /// Channel B number.
        channel_b: u16 = (52, 12),
        /// Tx/Rx mode.
        txrx: u8 = (64, 4),
        /// Low power.
        power: bool = (68, 1),
        /// Addressed (true: two MMSIs) or a regional area.
        addressed: bool = (139, 1),
        /// Channel A bandwidth.
        band_a: bool = (140, 1),
        /// Channel B bandwidth.
        band_b: bool = (141, 1),
        /// Transitional zone size.
        zonesize: u8 = (142, 3),
    }
}

layout! {
    /// The regional area of a broadcast channel management message, 1/10 minute.
    pub struct ChannelArea {
        /// North-east longitude.
        ne_lon: i32 = (69, 18),
        /// North-east latitude.
        ne_lat: i32 = (87, 17),
        /// South-west longitude.
        sw_lon: i32 = (104, 18),
        /// South-west latitude.
        sw_lat: i32 = (122, 17),
    }
}

layout! {
    /// The two destinations of an addressed channel management message.
    pub struct ChannelDestinations {
        /// First MMSI.
        dest1: u32 = (69, 30),
        /// Second MMSI.
        dest2: u32 = (104, 30),
    }
}

/// Channel management, type 22: either an area or two addressed stations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelManagement {
    /// Common fields.
    pub common: ChannelManagementCommon,
    /// The area (meaningful when not addressed).
    pub area: ChannelArea,
    /// The destinations (meaningful when addressed).
    pub destinations: ChannelDestinations,
}

impl ChannelManagement {
    pub(crate) fn read(p: &Payload) -> Self {
        let common = ChannelManagementCommon::read(p);
        if common.addressed {
            ChannelManagement {
                common,
                destinations: ChannelDestinations::read(p),
                ..Default::default()
            }
        } else {
            ChannelManagement {
                common,
                area: ChannelArea::read(p),
                ..Default::default()
            }
        }
    }

    pub(crate) fn write(&self, w: &mut Payload) {
        self.common.write(w);
        if self.common.addressed {
            self.destinations.write(w);
        } else {
            self.area.write(w);
        }
    }
}

layout! {
    /// Group assignment command, type 23.
    pub struct GroupAssignment {
        /// North-east longitude, 1/10 minute.
        ne_lon: i32 = (40, 18),
        /// North-east latitude.
        ne_lat: i32 = (58, 17),
        /// South-west longitude.
        sw_lon: i32 = (75, 18),
        /// South-west latitude.
        sw_lat: i32 = (93, 17),
        /// Station type.
        stationtype: u8 = (110, 4),
        /// Ship and cargo type.
        shiptype: u8 = (114, 8),
        /// Tx/Rx mode.
        txrx: u8 = (144, 2),
        /// Reporting interval.
        interval: u8 = (146, 4),
        /// Quiet time, minutes.
        quiet: u8 = (150, 4),
    }
}
