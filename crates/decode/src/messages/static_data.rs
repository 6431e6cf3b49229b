//! Static and voyage related data (type 5) and Class B static data report (type 24).
//!
//! Type 24 comes in two parts, A (name) and B (type, vendor, call sign,
//! dimensions). We keep each part as its own message and never drop one for
//! lack of its partner: pairing is the job of the identity stage downstream.

use super::layout::layout;
use crate::bits::Payload;
use crate::text::AisText;

layout! {
    /// Static and voyage related data, message type 5.
    pub struct StaticAndVoyageData {
        /// AIS version indicator.
        ais_version: u8 = (38, 2),
        /// IMO ship number (0 = not available).
        imo: u32 = (40, 30),
        /// Call sign.
        callsign: AisText<7> = (70, 7),
        /// Vessel name.
        shipname: AisText<20> = (112, 20),
        /// Ship and cargo type.
        shiptype: u8 = (232, 8),
        /// Dimension to bow, metres.
        to_bow: u16 = (240, 9),
        /// Dimension to stern, metres.
        to_stern: u16 = (249, 9),
        /// Dimension to port, metres.
        to_port: u8 = (258, 6),
        /// Dimension to starboard, metres.
        to_starboard: u8 = (264, 6),
        /// Position fix type.
        epfd: u8 = (270, 4),
        /// ETA month (0 = not available).
        month: u8 = (274, 4),
        /// ETA day (0 = not available).
        day: u8 = (278, 5),
        /// ETA hour (24 = not available).
        hour: u8 = (283, 5),
        /// ETA minute (60 = not available).
        minute: u8 = (288, 6),
        /// Maximum present static draught in 1/10 metre (0 = not available).
        draught: u8 = (294, 8),
        /// Destination.
        destination: AisText<20> = (302, 20),
        /// Data terminal equipment ready (0 = ready).
        dte: u8 = (422, 1),
    }
}

layout! {
    /// Class B static data report part A (type 24, part number 0): the name.
    pub struct StaticDataPartA {
        /// Vessel name.
        shipname: AisText<20> = (40, 20),
    }
}

layout! {
    /// Fields common to every type 24 part B.
    pub struct StaticDataPartBCommon {
        /// Ship and cargo type.
        shiptype: u8 = (40, 8),
        /// Manufacturer id, three characters (ITU-R M.1371-4 and later; older
        /// units sent seven, see [`StaticDataPartBCommon::legacy_vendorid`]).
        vendorid: AisText<3> = (48, 3),
        /// Unit model code.
        model: u8 = (66, 4),
        /// Serial number.
        serial: u32 = (70, 20),
        /// Call sign.
        callsign: AisText<7> = (90, 7),
    }
}

impl StaticDataPartBCommon {
    /// The seven-character vendor id of ITU-R M.1371-3, as gpsd still prints it:
    /// the three-character id followed by the bits of model and serial read
    /// as text (stopping at `@`, trailing spaces trimmed).
    pub fn legacy_vendorid(&self) -> AisText<7> {
        let mut t: AisText<7> = AisText::default();
        for c in self.vendorid.as_str().bytes() {
            t.push(c);
        }
        if self.vendorid.as_str().len() == 3 {
            let bits = ((self.model as u32 & 15) << 20) | (self.serial & 0xf_ffff);
            for i in 0..4 {
                let c = crate::text::SIXBIT_ALPHABET[((bits >> (18 - 6 * i)) & 63) as usize];
                if c == b'@' {
                    break;
                }
                t.push(c);
            }
        }
        t.trim_end();
        t
    }
}

layout! {
    /// Ship dimensions from the reference point, metres.
    pub struct Dimensions {
        /// To bow.
        to_bow: u16 = (132, 9),
        /// To stern.
        to_stern: u16 = (141, 9),
        /// To port.
        to_port: u8 = (150, 6),
        /// To starboard.
        to_starboard: u8 = (156, 6),
    }
}

/// Class B static data report part B (type 24, part number 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StaticDataPartB {
    /// Type, vendor, call sign.
    pub common: StaticDataPartBCommon,
    /// Dimensions; zero for auxiliary craft, which send a mothership MMSI instead.
    pub dim: Dimensions,
    /// MMSI of the mother ship, for auxiliary craft (`98MIDxxxx`); 0 otherwise.
    pub mothership_mmsi: u32,
}

/// Whether an MMSI belongs to a craft associated with a parent ship (98MIDxxxx),
/// which sends a mothership MMSI in place of dimensions (ITU-R M.1371-5).
pub fn is_auxiliary_mmsi(mmsi: u32) -> bool {
    mmsi / 10_000_000 == 98
}

impl StaticDataPartB {
    pub(crate) fn read(p: &Payload, mmsi: u32) -> Self {
        let common = StaticDataPartBCommon::read(p);
        if is_auxiliary_mmsi(mmsi) {
            StaticDataPartB {
                common,
                dim: Dimensions::default(),
                mothership_mmsi: p.u(132, 30) as u32,
            }
        } else {
            StaticDataPartB {
                common,
                dim: Dimensions::read(p),
                mothership_mmsi: 0,
            }
        }
    }

    pub(crate) fn write(&self, w: &mut Payload, mmsi: u32) {
        self.common.write(w);
        if is_auxiliary_mmsi(mmsi) {
            w.set(132, 30, self.mothership_mmsi as u64);
        } else {
            self.dim.write(w);
        }
    }
}

/// Class B static data report, message type 24: one part per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticDataReport {
    /// Part A: the vessel name.
    PartA(StaticDataPartA),
    /// Part B: type, vendor, call sign, dimensions.
    PartB(StaticDataPartB),
}
