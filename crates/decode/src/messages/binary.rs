//! Binary messages: addressed (6), broadcast (8), GNSS broadcast (17), single-slot
//! (25) and multiple-slot (26), with their application payloads.
//!
//! The envelope (addresses, DAC/FI or application id) is always decoded; the
//! payload is kept raw as [`BinaryData`]. A few application messages that
//! matter to us or to gpsd's output are decoded further into [`Application`];
//! an unknown DAC/FI never fails the envelope.

use super::layout::layout;
use crate::bits::Payload;

/// Capacity of [`BinaryData`] in bytes (1024 bits: more than the 952 bits a
/// five-slot type 8 can carry).
pub const MAX_BINARY_BYTES: usize = 128;

/// Raw application payload bits, left-aligned, held inline.
///
/// The bits past `bitcount` in the last byte are zero in [`BinaryData::bytes`];
/// what the payload actually carried there (fill bits, or the radio status
/// that follows a type 26 payload) is kept apart in `last_byte_raw`, because
/// gpsd's hex dumps show it. Equality ignores it.
#[derive(Clone, Copy, Eq)]
pub struct BinaryData {
    bitcount: u16,
    bytes: [u8; MAX_BINARY_BYTES],
    last_byte_raw: u8,
}

impl PartialEq for BinaryData {
    fn eq(&self, other: &Self) -> bool {
        self.bitcount == other.bitcount && self.bytes() == other.bytes()
    }
}

impl Default for BinaryData {
    fn default() -> Self {
        BinaryData {
            bitcount: 0,
            bytes: [0; MAX_BINARY_BYTES],
            last_byte_raw: 0,
        }
    }
}

impl std::fmt::Debug for BinaryData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BinaryData({} bits)", self.bitcount)
    }
}

impl BinaryData {
    /// Copies `bitcount` bits starting at bit `start` of the payload. Returns the
    /// data and whether it had to be truncated to capacity.
    pub(crate) fn read(p: &Payload, start: usize, bitcount: usize) -> (Self, bool) {
        let kept = bitcount.min(MAX_BINARY_BYTES * 8);
        let mut d = BinaryData {
            bitcount: kept as u16,
            ..Default::default()
        };
        let nbytes = kept.div_ceil(8);
        for (i, b) in d.bytes[..nbytes].iter_mut().enumerate() {
            *b = p.u(start + 8 * i, 8) as u8;
        }
        if nbytes > 0 {
            d.last_byte_raw = d.bytes[nbytes - 1];
        }
        if !kept.is_multiple_of(8) {
            d.bytes[nbytes - 1] &= 0xffu8 << (8 - kept % 8);
        }
        (d, kept < bitcount)
    }

    /// Builds data from bytes and a bit count (for the encoder and tests).
    pub fn from_bits(bytes: &[u8], bitcount: usize) -> Self {
        let kept = bitcount.min(bytes.len() * 8).min(MAX_BINARY_BYTES * 8);
        let mut d = BinaryData {
            bitcount: kept as u16,
            ..Default::default()
        };
        let nbytes = kept.div_ceil(8);
        d.bytes[..nbytes].copy_from_slice(&bytes[..nbytes]);
        if !kept.is_multiple_of(8) {
            d.bytes[nbytes - 1] &= 0xffu8 << (8 - kept % 8);
        }
        if nbytes > 0 {
            d.last_byte_raw = d.bytes[nbytes - 1];
        }
        d
    }

    /// The last byte as the payload carried it, bits past `bitcount` included.
    pub fn last_byte_raw(&self) -> u8 {
        self.last_byte_raw
    }

    /// Number of bits.
    pub fn bitcount(&self) -> usize {
        self.bitcount as usize
    }

    /// The bytes holding the bits (the last one zero-padded).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.bitcount().div_ceil(8)]
    }

    pub(crate) fn write(&self, w: &mut Payload, start: usize) {
        let n = self.bitcount();
        for i in 0..n.div_ceil(8) {
            let len = (n - 8 * i).min(8);
            w.set(start + 8 * i, len, (self.bytes[i] >> (8 - len)) as u64);
        }
    }
}

layout! {
    /// The envelope of an addressed binary message, type 6.
    pub struct AddressedBinaryHeader {
        /// Sequence number.
        seqno: u8 = (38, 2),
        /// Destination MMSI.
        dest_mmsi: u32 = (40, 30),
        /// Retransmit flag.
        retransmit: bool = (70, 1),
        /// Designated area code.
        dac: u16 = (72, 10),
        /// Function identifier.
        fid: u8 = (82, 6),
    }
}

layout! {
    /// The envelope of a broadcast binary message, type 8.
    pub struct BroadcastBinaryHeader {
        /// Designated area code.
        dac: u16 = (40, 10),
        /// Function identifier.
        fid: u8 = (50, 6),
    }
}

/// Addressed binary message, type 6.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AddressedBinary {
    /// Addresses and DAC/FI.
    pub header: AddressedBinaryHeader,
    /// Application payload after bit 88.
    pub data: BinaryData,
    /// The payload decoded, where we know its DAC/FI.
    pub application: Option<Application>,
}

/// Broadcast binary message, type 8.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BroadcastBinary {
    /// DAC/FI.
    pub header: BroadcastBinaryHeader,
    /// Application payload after bit 56.
    pub data: BinaryData,
    /// The payload decoded, where we know its DAC/FI.
    pub application: Option<Application>,
}

/// GNSS broadcast binary message (DGNSS corrections), type 17.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GnssBroadcast {
    /// Longitude of the reference station in 1/10 minute.
    pub lon: i32,
    /// Latitude of the reference station in 1/10 minute.
    pub lat: i32,
    /// Correction data after bit 80.
    pub data: BinaryData,
}

/// Single-slot (25) or multiple-slot (26) binary message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlotBinary {
    /// Addressed (true) or broadcast.
    pub addressed: bool,
    /// Structured (carries a 16-bit application id).
    pub structured: bool,
    /// Destination MMSI when addressed, else 0.
    pub dest_mmsi: u32,
    /// Application id when structured, else 0.
    pub app_id: u16,
    /// Payload after the envelope (type 26: without the 20-bit radio status).
    pub data: BinaryData,
    /// Radio status (type 26 only; gpsd does not read it and prints 0).
    pub radio: u32,
}

impl SlotBinary {
    /// Bits before the payload.
    pub fn header_bits(addressed: bool, structured: bool) -> usize {
        40 + if addressed { 30 } else { 0 } + if structured { 16 } else { 0 }
    }

    pub(crate) fn read(p: &Payload, multi_slot: bool) -> (Self, bool) {
        let addressed = p.u(38, 1) != 0;
        let structured = p.u(39, 1) != 0;
        let dest_mmsi = if addressed { p.u(40, 30) as u32 } else { 0 };
        let app_id = if structured {
            p.u(if addressed { 70 } else { 40 }, 16) as u16
        } else {
            0
        };
        let start = Self::header_bits(addressed, structured);
        let trailer = if multi_slot { 20 } else { 0 };
        let count = p.len_bits().saturating_sub(start + trailer);
        let (data, truncated) = BinaryData::read(p, start, count);
        let radio = if multi_slot && p.len_bits() >= start + 20 {
            p.u(start + count, 20) as u32
        } else {
            0
        };
        (
            SlotBinary {
                addressed,
                structured,
                dest_mmsi,
                app_id,
                data,
                radio,
            },
            truncated,
        )
    }

    pub(crate) fn write(&self, w: &mut Payload, multi_slot: bool) -> usize {
        w.set(38, 1, self.addressed as u64);
        w.set(39, 1, self.structured as u64);
        if self.addressed {
            w.set(40, 30, self.dest_mmsi as u64);
        }
        if self.structured {
            w.set(if self.addressed { 70 } else { 40 }, 16, self.app_id as u64);
        }
        let start = Self::header_bits(self.addressed, self.structured);
        self.data.write(w, start);
        let mut end = start + self.data.bitcount();
        if multi_slot {
            w.set(end, 20, self.radio as u64);
            end += 20;
        }
        end
    }
}

layout! {
    /// IMO236 meteorological and hydrological data (type 8, DAC 1, FI 11).
    /// Raw units as in IMO SN/Circ.236 Annex 2.
    pub struct MetHydro11 {
        /// Latitude in 1/1000 minute.
        lat: i32 = (56, 24),
        /// Longitude in 1/1000 minute.
        lon: i32 = (80, 25),
        /// UTC day.
        day: u8 = (105, 5),
        /// UTC hour.
        hour: u8 = (110, 5),
        /// UTC minute.
        minute: u8 = (115, 6),
        /// Average wind speed, knots.
        wspeed: u8 = (121, 7),
        /// Gust speed, knots.
        wgust: u8 = (128, 7),
        /// Wind direction, degrees.
        wdir: u16 = (135, 9),
        /// Gust direction, degrees.
        wgustdir: u16 = (144, 9),
        /// Air temperature, 0.1 °C offset by −60 °C.
        airtemp: u16 = (153, 11),
        /// Relative humidity, %.
        humidity: u8 = (164, 7),
        /// Dew point, 0.1 °C offset by −20 °C.
        dewpoint: u16 = (171, 10),
        /// Air pressure, hPa offset by +800.
        pressure: u16 = (181, 9),
        /// Pressure tendency.
        pressuretend: u8 = (190, 2),
        /// Horizontal visibility, 0.1 nm.
        visibility: u8 = (192, 8),
        /// Water level, 0.1 m offset by −10 m.
        waterlevel: u16 = (200, 9),
        /// Water level trend.
        leveltrend: u8 = (209, 2),
        /// Surface current speed, 0.1 knot.
        cspeed: u8 = (211, 8),
        /// Surface current direction, degrees.
        cdir: u16 = (219, 9),
        /// Current 2 speed, 0.1 knot.
        cspeed2: u8 = (228, 8),
        /// Current 2 direction.
        cdir2: u16 = (236, 9),
        /// Current 2 depth, metres.
        cdepth2: u8 = (245, 5),
        /// Current 3 speed.
        cspeed3: u8 = (250, 8),
        /// Current 3 direction.
        cdir3: u16 = (258, 9),
        /// Current 3 depth.
        cdepth3: u8 = (267, 5),
        /// Significant wave height, 0.1 m.
        waveheight: u8 = (272, 8),
        /// Wave period, s.
        waveperiod: u8 = (280, 6),
        /// Wave direction.
        wavedir: u16 = (286, 9),
        /// Swell height, 0.1 m.
        swellheight: u8 = (295, 8),
        /// Swell period, s.
        swellperiod: u8 = (303, 6),
        /// Swell direction.
        swelldir: u16 = (309, 9),
        /// Sea state, Beaufort.
        seastate: u8 = (318, 4),
        /// Water temperature, 0.1 °C offset by −10 °C.
        watertemp: u16 = (322, 10),
        /// Precipitation type.
        preciptype: u8 = (332, 3),
        /// Salinity, 0.1 ‰.
        salinity: u16 = (335, 9),
        /// Ice.
        ice: u8 = (344, 2),
    }
}

layout! {
    /// IMO289 meteorological and hydrological data (type 8, DAC 1, FI 31),
    /// IMO SN.1/Circ.289.
    pub struct MetHydro31 {
        /// Longitude in 1/1000 minute.
        lon: i32 = (56, 25),
        /// Latitude in 1/1000 minute.
        lat: i32 = (81, 24),
        /// Position accuracy.
        accuracy: bool = (105, 1),
        /// UTC day.
        day: u8 = (106, 5),
        /// UTC hour.
        hour: u8 = (111, 5),
        /// UTC minute.
        minute: u8 = (116, 6),
        /// Average wind speed, knots.
        wspeed: u8 = (122, 7),
        /// Gust speed, knots.
        wgust: u8 = (129, 7),
        /// Wind direction.
        wdir: u16 = (136, 9),
        /// Gust direction.
        wgustdir: u16 = (145, 9),
        /// Air temperature, 0.1 °C (signed).
        airtemp: i16 = (154, 11),
        /// Relative humidity, %.
        humidity: u8 = (165, 7),
        /// Dew point, 0.1 °C (signed).
        dewpoint: i16 = (172, 10),
        /// Air pressure, hPa offset by +799.
        pressure: u16 = (182, 9),
        /// Pressure tendency.
        pressuretend: u8 = (191, 2),
        /// Visibility greater than the value given.
        visgreater: bool = (193, 1),
        /// Horizontal visibility, 0.1 nm.
        visibility: u8 = (194, 7),
        /// Water level, 0.01 m offset by −10 m.
        waterlevel: u16 = (201, 12),
        /// Water level trend.
        leveltrend: u8 = (213, 2),
        /// Surface current speed, 0.1 knot.
        cspeed: u8 = (215, 8),
        /// Surface current direction.
        cdir: u16 = (223, 9),
        /// Current 2 speed.
        cspeed2: u8 = (232, 8),
        /// Current 2 direction.
        cdir2: u16 = (240, 9),
        /// Current 2 depth, 0.1 m.
        cdepth2: u8 = (249, 5),
        /// Current 3 speed.
        cspeed3: u8 = (254, 8),
        /// Current 3 direction.
        cdir3: u16 = (262, 9),
        /// Current 3 depth.
        cdepth3: u8 = (271, 5),
        /// Significant wave height, 0.1 m.
        waveheight: u8 = (276, 8),
        /// Wave period, s.
        waveperiod: u8 = (284, 6),
        /// Wave direction.
        wavedir: u16 = (290, 9),
        /// Swell height, 0.1 m.
        swellheight: u8 = (299, 8),
        /// Swell period, s.
        swellperiod: u8 = (307, 6),
        /// Swell direction.
        swelldir: u16 = (313, 9),
        /// Sea state, Beaufort.
        seastate: u8 = (322, 4),
        /// Water temperature, 0.1 °C (signed).
        watertemp: i16 = (326, 10),
        /// Precipitation type.
        preciptype: u8 = (336, 3),
        /// Salinity, 0.1 ‰.
        salinity: u16 = (339, 9),
        /// Ice.
        ice: u8 = (348, 2),
    }
}

layout! {
    /// GLA AtoN monitoring data (type 6, DAC 235 or 250, FI 10).
    pub struct AtonMonitoring {
        /// Analogue (internal) supply voltage, 0.05 V.
        ana_int: u16 = (88, 10),
        /// Analogue external 1.
        ana_ext1: u16 = (98, 10),
        /// Analogue external 2.
        ana_ext2: u16 = (108, 10),
        /// RACON status.
        racon: u8 = (118, 2),
        /// Light status.
        light: u8 = (120, 2),
        /// Health alarm.
        alarm: bool = (122, 1),
        /// External digital status.
        stat_ext: u8 = (123, 8),
        /// Off position.
        off_pos: bool = (131, 1),
    }
}

layout! {
    /// Inland AIS: number of persons on board (type 6, DAC 200, FI 55).
    pub struct InlandPersonsOnBoard {
        /// Crew members.
        crew: u8 = (88, 8),
        /// Passengers.
        passengers: u16 = (96, 13),
        /// Shipboard personnel.
        personnel: u8 = (109, 8),
    }
}

layout! {
    /// Inland ship static and voyage data (type 8, DAC 200, FI 10).
    pub struct InlandStaticData {
        /// European vessel identification number.
        vin: crate::AisText<8> = (56, 8),
        /// Length, 0.1 m.
        length: u16 = (104, 13),
        /// Beam, 0.1 m.
        beam: u16 = (117, 10),
        /// ERI ship type.
        shiptype: u16 = (127, 14),
        /// Hazardous cargo (blue cones).
        hazard: u8 = (141, 3),
        /// Draught, 0.01 m.
        draught: u16 = (144, 11),
        /// Loaded or unloaded.
        loaded: u8 = (155, 2),
        /// Speed quality.
        speed_q: bool = (157, 1),
        /// Course quality.
        course_q: bool = (158, 1),
        /// Heading quality.
        heading_q: bool = (159, 1),
    }
}

/// Application payloads we decode beyond the envelope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Application {
    /// Type 8, DAC 1, FI 11.
    MetHydro11(MetHydro11),
    /// Type 8, DAC 1, FI 31.
    MetHydro31(MetHydro31),
    /// Type 6, DAC 235/250, FI 10.
    AtonMonitoring(AtonMonitoring),
    /// Type 6, DAC 200, FI 55.
    InlandPersonsOnBoard(InlandPersonsOnBoard),
    /// Type 8, DAC 200, FI 10.
    InlandStaticData(InlandStaticData),
}

/// Maximum inland hazard code (ERI: 0-4 cones, 5 = B-flag).
const INLAND_HAZARD_MAX: u8 = 5;

impl Application {
    /// Decodes the payload of a type 6 message, when its DAC/FI and length are known.
    pub(crate) fn addressed(p: &Payload, dac: u16, fid: u8) -> Option<Self> {
        let bits = p.len_bits();
        match (dac, fid) {
            (235 | 250, 10) if bits == 136 => Some(Self::AtonMonitoring(AtonMonitoring::read(p))),
            (200, 55) if bits == 168 => {
                Some(Self::InlandPersonsOnBoard(InlandPersonsOnBoard::read(p)))
            }
            _ => None,
        }
    }

    /// Decodes the payload of a type 8 message, when its DAC/FI and length are known.
    pub(crate) fn broadcast(p: &Payload, dac: u16, fid: u8) -> Option<Self> {
        let bits = p.len_bits();
        match (dac, fid) {
            // Decoded as far as the bits go, like gpsd (missing fields read as 0).
            (1, 11) => Some(Self::MetHydro11(MetHydro11::read(p))),
            (1, 31) => Some(Self::MetHydro31(MetHydro31::read(p))),
            (200, 10) if bits == 168 => {
                let d = InlandStaticData::read(p);
                (d.hazard <= INLAND_HAZARD_MAX).then_some(Self::InlandStaticData(d))
            }
            _ => None,
        }
    }
}
