//! AIS messages of types 1 to 27, named by meaning (the type numbers are in
//! each doc comment), with gpsd's field names and raw units.
//!
//! [`AisMessage::decode`] reads a de-armoured payload; [`AisMessage::encode`]
//! writes one. Both are driven by the same layout tables (see `layout.rs`).
//! Messages hold everything inline, so decoding never allocates.

pub(crate) mod layout;

mod aid_to_navigation;
mod base_station_report;
mod binary;
mod link_management;
mod position_report;
mod safety;
mod static_data;

pub use aid_to_navigation::{AidToNavigation, AidToNavigationFields, MAX_ATON_NAME};
pub use base_station_report::BaseStationReport;
pub use binary::{
    AddressedBinary, AddressedBinaryHeader, Application, AtonMonitoring, BinaryData,
    BroadcastBinary, BroadcastBinaryHeader, GnssBroadcast, InlandPersonsOnBoard, InlandStaticData,
    MetHydro11, MetHydro31, SlotBinary, MAX_BINARY_BYTES,
};
pub use link_management::{
    AssignedMode, ChannelArea, ChannelDestinations, ChannelManagement, ChannelManagementCommon,
    DataLinkManagement, GroupAssignment, Interrogation, SlotReservation, UtcInquiry,
};
pub use position_report::{
    ClassBPositionReport, ExtendedClassBPositionReport, LongRangeBroadcast, PositionReport,
    SarAircraftPositionReport,
};
pub use safety::{Acknowledge, AddressedSafety, BroadcastSafety, MAX_SAFETY_TEXT};
pub use static_data::{
    is_auxiliary_mmsi, Dimensions, StaticAndVoyageData, StaticDataPartA, StaticDataPartB,
    StaticDataPartBCommon, StaticDataReport,
};

use crate::bits::Payload;

/// The first 38 bits of every AIS message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// Message type, 1..=27.
    pub msg_type: u8,
    /// Repeat indicator.
    pub repeat: u8,
    /// Source MMSI, as transmitted (not validated: see `shadowfleet_model::Mmsi`).
    pub mmsi: u32,
}

/// The body of an AIS message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Body {
    /// Types 1, 2, 3.
    PositionReport(PositionReport),
    /// Types 4 and 11.
    BaseStationReport(BaseStationReport),
    /// Type 5.
    StaticAndVoyageData(StaticAndVoyageData),
    /// Type 6.
    AddressedBinary(AddressedBinary),
    /// Types 7 and 13.
    Acknowledge(Acknowledge),
    /// Type 8.
    BroadcastBinary(BroadcastBinary),
    /// Type 9.
    SarAircraftPositionReport(SarAircraftPositionReport),
    /// Type 10.
    UtcInquiry(UtcInquiry),
    /// Type 12.
    AddressedSafety(AddressedSafety),
    /// Type 14.
    BroadcastSafety(BroadcastSafety),
    /// Type 15.
    Interrogation(Interrogation),
    /// Type 16.
    AssignedMode(AssignedMode),
    /// Type 17.
    GnssBroadcast(GnssBroadcast),
    /// Type 18.
    ClassBPositionReport(ClassBPositionReport),
    /// Type 19.
    ExtendedClassBPositionReport(ExtendedClassBPositionReport),
    /// Type 20.
    DataLinkManagement(DataLinkManagement),
    /// Type 21.
    AidToNavigation(AidToNavigation),
    /// Type 22.
    ChannelManagement(ChannelManagement),
    /// Type 23.
    GroupAssignment(GroupAssignment),
    /// Type 24, part A or B.
    StaticDataReport(StaticDataReport),
    /// Type 25.
    SingleSlotBinary(SlotBinary),
    /// Type 26.
    MultiSlotBinary(SlotBinary),
    /// Type 27.
    LongRangeBroadcast(LongRangeBroadcast),
}

/// A decoded AIS message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AisMessage {
    /// Type, repeat indicator, MMSI.
    pub header: Header,
    /// The fields of the message type.
    pub body: Body,
}

/// How a payload's length compares with its type's nominal length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LengthCheck {
    /// Shorter than the type requires: missing fields read as zero.
    pub short: bool,
    /// Longer than the type allows: extra bits ignored.
    pub long: bool,
    /// Text or binary data longer than we keep inline: cut.
    pub truncated: bool,
}

/// Why a payload is not a decodable message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Fewer than the 38 bits of the common header.
    TooShort,
    /// Type 0 or above 27.
    UnknownType(u8),
    /// Type 24 with a part number other than 0 (A) or 1 (B).
    UnknownPart(u8),
}

/// Nominal (minimum, maximum) payload bits per type (ITU-R M.1371-5 Annex 8).
pub fn nominal_bits(msg_type: u8) -> (usize, usize) {
    match msg_type {
        1..=4 | 11 | 9 | 18 | 22 => (168, 168),
        5 => (424, 424),
        6 => (88, 1008),
        7 | 13 => (72, 168),
        8 => (56, 1008),
        10 => (72, 72),
        12 => (72, 1008),
        14 => (40, 1008),
        15 => (88, 160),
        16 => (96, 144),
        17 => (80, 816),
        19 => (312, 312),
        20 => (72, 160),
        21 => (272, 360),
        23 => (160, 160),
        24 => (160, 168),
        25 => (40, 168),
        26 => (60, 1064),
        27 => (96, 96),
        _ => (38, 1008),
    }
}

impl AisMessage {
    /// Decodes a de-armoured payload.
    pub fn decode(p: &Payload) -> Result<(AisMessage, LengthCheck), BodyError> {
        let bits = p.len_bits();
        if bits < 38 {
            return Err(BodyError::TooShort);
        }
        let header = Header {
            msg_type: p.u(0, 6) as u8,
            repeat: p.u(6, 2) as u8,
            mmsi: p.u(8, 30) as u32,
        };
        let (min, max) = nominal_bits(header.msg_type);
        let mut check = LengthCheck {
            short: bits < min,
            long: bits > max,
            truncated: false,
        };
        let body = match header.msg_type {
            1..=3 => {
                let mut m = PositionReport::read(p);
                if bits < 168 {
                    // Decode as far as the bits go: a short radio status keeps its bits.
                    m.radio = p.u(149, bits.saturating_sub(149)) as u32;
                }
                Body::PositionReport(m)
            }
            4 | 11 => Body::BaseStationReport(BaseStationReport::read(p)),
            5 => Body::StaticAndVoyageData(StaticAndVoyageData::read(p)),
            6 => {
                let h = AddressedBinaryHeader::read(p);
                let (data, cut) = BinaryData::read(p, 88, bits.saturating_sub(88));
                check.truncated = cut;
                let application = Application::addressed(p, h.dac, h.fid);
                Body::AddressedBinary(AddressedBinary {
                    header: h,
                    data,
                    application,
                })
            }
            7 | 13 => Body::Acknowledge(Acknowledge::read(p)),
            8 => {
                let h = BroadcastBinaryHeader::read(p);
                let (data, cut) = BinaryData::read(p, 56, bits.saturating_sub(56));
                check.truncated = cut;
                let application = Application::broadcast(p, h.dac, h.fid);
                Body::BroadcastBinary(BroadcastBinary {
                    header: h,
                    data,
                    application,
                })
            }
            9 => Body::SarAircraftPositionReport(SarAircraftPositionReport::read(p)),
            10 => Body::UtcInquiry(UtcInquiry::read(p)),
            12 => {
                let (m, cut) = AddressedSafety::read(p);
                check.truncated = cut;
                Body::AddressedSafety(m)
            }
            14 => {
                let (m, cut) = BroadcastSafety::read(p);
                check.truncated = cut;
                Body::BroadcastSafety(m)
            }
            15 => Body::Interrogation(read_interrogation(p)),
            16 => Body::AssignedMode(read_assigned_mode(p)),
            17 => {
                let (data, cut) = BinaryData::read(p, 80, bits.saturating_sub(80));
                check.truncated = cut;
                Body::GnssBroadcast(GnssBroadcast {
                    lon: p.i(40, 18) as i32,
                    lat: p.i(58, 17) as i32,
                    data,
                })
            }
            18 => Body::ClassBPositionReport(ClassBPositionReport::read(p)),
            19 => Body::ExtendedClassBPositionReport(ExtendedClassBPositionReport::read(p)),
            20 => Body::DataLinkManagement(DataLinkManagement::read(p)),
            21 => Body::AidToNavigation(AidToNavigation::read(p)),
            22 => Body::ChannelManagement(ChannelManagement::read(p)),
            23 => Body::GroupAssignment(GroupAssignment::read(p)),
            24 => match p.u(38, 2) as u8 {
                0 => Body::StaticDataReport(StaticDataReport::PartA(StaticDataPartA::read(p))),
                1 => Body::StaticDataReport(StaticDataReport::PartB(StaticDataPartB::read(
                    p,
                    header.mmsi,
                ))),
                part => return Err(BodyError::UnknownPart(part)),
            },
            25 | 26 => {
                let multi = header.msg_type == 26;
                let (m, cut) = SlotBinary::read(p, multi);
                check.truncated = cut;
                if multi {
                    Body::MultiSlotBinary(m)
                } else {
                    Body::SingleSlotBinary(m)
                }
            }
            27 => Body::LongRangeBroadcast(LongRangeBroadcast::read(p)),
            t => return Err(BodyError::UnknownType(t)),
        };
        Ok((AisMessage { header, body }, check))
    }

    /// Encodes the message into `w` (which must be empty), at its nominal length.
    pub fn encode(&self, w: &mut Payload) {
        let h = &self.header;
        w.set(0, 6, h.msg_type as u64);
        w.set(6, 2, h.repeat as u64);
        w.set(8, 30, h.mmsi as u64);
        let len = match &self.body {
            Body::PositionReport(m) => {
                m.write(w);
                168
            }
            Body::BaseStationReport(m) => {
                m.write(w);
                168
            }
            Body::StaticAndVoyageData(m) => {
                m.write(w);
                424
            }
            Body::AddressedBinary(m) => {
                m.header.write(w);
                m.data.write(w, 88);
                88 + m.data.bitcount()
            }
            Body::Acknowledge(m) => m.write(w),
            Body::BroadcastBinary(m) => {
                m.header.write(w);
                m.data.write(w, 56);
                56 + m.data.bitcount()
            }
            Body::SarAircraftPositionReport(m) => {
                m.write(w);
                168
            }
            Body::UtcInquiry(m) => {
                m.write(w);
                72
            }
            Body::AddressedSafety(m) => m.write(w),
            Body::BroadcastSafety(m) => m.write(w),
            Body::Interrogation(m) => {
                m.write(w);
                interrogation_bits(m)
            }
            Body::AssignedMode(m) => {
                m.write(w);
                if m.mmsi2 == 0 && m.offset2 == 0 && m.increment2 == 0 {
                    96
                } else {
                    144
                }
            }
            Body::GnssBroadcast(m) => {
                w.set(40, 18, (m.lon as u64) & 0x3ffff);
                w.set(58, 17, (m.lat as u64) & 0x1ffff);
                m.data.write(w, 80);
                80 + m.data.bitcount()
            }
            Body::ClassBPositionReport(m) => {
                m.write(w);
                168
            }
            Body::ExtendedClassBPositionReport(m) => {
                m.write(w);
                312
            }
            Body::DataLinkManagement(m) => m.write(w),
            Body::AidToNavigation(m) => m.write(w),
            Body::ChannelManagement(m) => {
                m.write(w);
                168
            }
            Body::GroupAssignment(m) => {
                m.write(w);
                160
            }
            Body::StaticDataReport(StaticDataReport::PartA(m)) => {
                m.write(w);
                // Part A is 160 bits (ITU-R M.1371-5); 168 is also common.
                160
            }
            Body::StaticDataReport(StaticDataReport::PartB(m)) => {
                w.set(38, 2, 1);
                m.write(w, h.mmsi);
                168
            }
            Body::SingleSlotBinary(m) => m.write(w, false),
            Body::MultiSlotBinary(m) => m.write(w, true),
            Body::LongRangeBroadcast(m) => {
                m.write(w);
                96
            }
        };
        w.set_len_bits(len);
    }
}

fn read_interrogation(p: &Payload) -> Interrogation {
    let mut m = Interrogation::read(p);
    // Shorter forms leave the later requests absent (zero), as gpsd does.
    if p.len_bits() <= 90 {
        m.type1_2 = 0;
        m.offset1_2 = 0;
    }
    if p.len_bits() <= 110 {
        m.mmsi2 = 0;
        m.type2_1 = 0;
        m.offset2_1 = 0;
    }
    m
}

fn interrogation_bits(m: &Interrogation) -> usize {
    if m.mmsi2 != 0 || m.type2_1 != 0 || m.offset2_1 != 0 {
        160
    } else if m.type1_2 != 0 || m.offset1_2 != 0 {
        112
    } else {
        88
    }
}

fn read_assigned_mode(p: &Payload) -> AssignedMode {
    let mut m = AssignedMode::read(p);
    if p.len_bits() < 144 {
        m.mmsi2 = 0;
        m.offset2 = 0;
        m.increment2 = 0;
    }
    m
}
