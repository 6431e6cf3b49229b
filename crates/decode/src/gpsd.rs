//! gpsd-compatible output: `gpsdecode -u -c` text and gpsd's JSON field names.
//!
//! [`CsvWriter`] reproduces `gpsdecode -u -c` byte for byte, including gpsd's
//! own acceptance rules (payload length checks per type) and its pairing of
//! type 24 parts (it prints a type 24 only when part B follows a part A of the
//! same MMSI). Those rules are gpsd's, not ours: our decoder keeps every part
//! and flags odd lengths instead of dropping them. [`write_json`] writes
//! gpsd's JSON names, either unscaled as the gpsd daemon does (`"scaled":false`)
//! or scaled for humans with "not available" values left out, plus our
//! reception metadata.

use std::fmt::Write as _;

use crate::decoder::{Decoded, Flags};
use crate::messages::{
    is_auxiliary_mmsi, AisMessage, Application, BinaryData, Body, StaticDataPartB, StaticDataReport,
};
use crate::text::AisText;

/// The met/hydro fields IMO236 (FI 11) and IMO289 (FI 31) share, in gpsd's
/// `-c` order. gpsd prints them whatever the payload length (the decoder reads
/// missing fields as zero, as gpsd does). A macro because the two layouts
/// differ in field types (FI 31 has signed temperatures).
macro_rules! met_hydro_csv {
    ($out:expr, $a:expr) => {{
        let a = $a;
        let _ = write!(
            $out,
            "|{}|{}|{:02}T{:02}:{:02}Z|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            a.lon, a.lat, a.day, a.hour, a.minute, a.wspeed, a.wgust, a.wdir, a.wgustdir,
            a.airtemp, a.humidity, a.dewpoint, a.pressure, a.pressuretend, a.visibility,
            a.waterlevel, a.leveltrend, a.cspeed, a.cdir, a.cspeed2, a.cdir2, a.cdepth2,
            a.cspeed3, a.cdir3, a.cdepth3, a.waveheight, a.waveperiod, a.wavedir,
            a.swellheight, a.swellperiod, a.swelldir, a.seastate, a.watertemp, a.preciptype,
            a.salinity, a.ice
        );
    }};
}

/// The met/hydro fields IMO236 (FI 11) and IMO289 (FI 31) share, under
/// gpsd's JSON names (a macro for the same reason as `met_hydro_csv`).
macro_rules! met_hydro_json {
    ($o:expr, $a:expr) => {{
        let (o, a): (&mut Obj<'_>, _) = ($o, $a);
        o.i("lat", a.lat);
        o.i("lon", a.lon);
        o.key("timestamp");
        let _ = write!(o.out, "\"{:02}T{:02}:{:02}Z\"", a.day, a.hour, a.minute);
        o.i("wspeed", a.wspeed);
        o.i("wgust", a.wgust);
        o.i("wdir", a.wdir);
        o.i("wgustdir", a.wgustdir);
        o.i("airtemp", a.airtemp);
        o.i("humidity", a.humidity);
        o.i("dewpoint", a.dewpoint);
        o.i("pressure", a.pressure);
        o.i("pressuretend", a.pressuretend);
        o.i("visibility", a.visibility);
        o.i("waterlevel", a.waterlevel);
        o.i("leveltrend", a.leveltrend);
        o.i("cspeed", a.cspeed);
        o.i("cdir", a.cdir);
        o.i("cspeed2", a.cspeed2);
        o.i("cdir2", a.cdir2);
        o.i("cdepth2", a.cdepth2);
        o.i("cspeed3", a.cspeed3);
        o.i("cdir3", a.cdir3);
        o.i("cdepth3", a.cdepth3);
        o.i("waveheight", a.waveheight);
        o.i("waveperiod", a.waveperiod);
        o.i("wavedir", a.wavedir);
        o.i("swellheight", a.swellheight);
        o.i("swellperiod", a.swellperiod);
        o.i("swelldir", a.swelldir);
        o.i("seastate", a.seastate);
        o.i("watertemp", a.watertemp);
        o.i("preciptype", a.preciptype);
        o.s(
            "preciptype_text",
            PRECIPITATION_TEXT[(a.preciptype & 7) as usize],
        );
        o.i("salinity", a.salinity);
        o.i("ice", a.ice);
        o.s("ice_text", ICE_TEXT[(a.ice & 3) as usize]);
    }};
}

/// Parts A remembered while waiting for their part B, as in gpsd (`MAX_TYPE24_INTERLEAVE`).
const TYPE24_QUEUE: usize = 8;

/// gpsd's type 24 pairing queue.
#[derive(Default)]
pub struct Type24Queue {
    ships: [(u32, AisText<20>); TYPE24_QUEUE],
    index: usize,
}

impl Type24Queue {
    /// Remembers a part A.
    pub fn stash(&mut self, mmsi: u32, name: AisText<20>) {
        self.ships[self.index] = (mmsi, name);
        self.index = (self.index + 1) % TYPE24_QUEUE;
    }

    /// The name of a stashed part A for `mmsi`, consumed.
    pub fn take(&mut self, mmsi: u32) -> Option<AisText<20>> {
        let slot = self.ships.iter_mut().find(|(m, _)| *m == mmsi)?;
        slot.0 = 0;
        Some(slot.1)
    }
}

/// Whether gpsd (3.2x) accepts a payload of `bits` bits for this message.
/// gpsd drops messages outside these ranges; we decode them and flag them.
pub fn gpsd_accepts(msg: &AisMessage, bits: usize) -> bool {
    let t = msg.header.msg_type;
    match t {
        1..=3 => (163..=204).contains(&bits),
        4 | 11 | 9 | 18 | 22 => bits >= 168,
        5 => bits >= 420,
        6 => (88..=1008).contains(&bits),
        7 | 13 => (72..=168).contains(&bits),
        8 => (56..=1008).contains(&bits),
        10 => bits >= 72,
        12 => (72..=1008).contains(&bits),
        14 => (40..=960).contains(&bits),
        15 => (88..=168).contains(&bits),
        16 => (96..=168).contains(&bits),
        17 => (80..=816).contains(&bits),
        19 => bits >= 312,
        20 => (72..=186).contains(&bits),
        21 => (272..=368).contains(&bits),
        23 => bits >= 160,
        24 => match &msg.body {
            Body::StaticDataReport(StaticDataReport::PartA(_)) => (160..=168).contains(&bits),
            _ => bits >= 168,
        },
        25 => match &msg.body {
            Body::SingleSlotBinary(m) => {
                (40..=168).contains(&bits)
                    && bits >= 40 + 16 * m.structured as usize + 30 * m.addressed as usize
            }
            _ => false,
        },
        26 => match &msg.body {
            Body::MultiSlotBinary(m) => {
                (60..=1004).contains(&bits)
                    && bits >= 60 + 16 * m.structured as usize + 30 * m.addressed as usize
            }
            _ => false,
        },
        27 => bits == 96 || bits == 168,
        _ => false,
    }
}

/// Whether gpsd decodes this type 6 DAC/FI into fields ("structured"), in
/// which case `gpsdecode -c` prints `x` in place of the payload hex.
fn gpsd_structured_6(dac: u16, fid: u8, bits: usize) -> bool {
    match dac {
        1 => matches!(fid, 12 | 14 | 15 | 16 | 18 | 20 | 25 | 28 | 30 | 32),
        200 => matches!((fid, bits), (21, 248) | (22, 232) | (55, 168)),
        235 | 250 => fid == 10 && bits == 136,
        _ => false,
    }
}

/// Same as [`gpsd_structured_6`] for type 8.
fn gpsd_structured_8(msg: &crate::messages::BroadcastBinary, bits: usize) -> bool {
    let (dac, fid) = (msg.header.dac, msg.header.fid);
    let count = msg.data.bitcount();
    match dac {
        1 => match fid {
            11 | 13 | 15 | 17 | 19 | 27 | 29 | 31 => true,
            16 => count == 136 || count == 72,
            _ => false,
        },
        200 => match (fid, bits) {
            (10, 168) => matches!(msg.application, Some(Application::InlandStaticData(_))),
            (23, 256) | (24, 168) | (40, 168) => true,
            _ => false,
        },
        _ => false,
    }
}

/// Hex of the data bytes. gpsd masks the bits past the end of type 8 payloads
/// only; for other types it prints the last byte as received (`raw_tail`).
fn hex_into(out: &mut String, data: &BinaryData, raw_tail: bool) {
    let bytes = data.bytes();
    for (i, b) in bytes.iter().enumerate() {
        let b = if raw_tail && i + 1 == bytes.len() {
            data.last_byte_raw()
        } else {
            *b
        };
        let _ = write!(out, "{b:02x}");
    }
}

fn x_into(out: &mut String, data: &BinaryData) {
    for _ in 0..data.bytes().len() * 2 {
        out.push('x');
    }
}

/// What gpsd would report for a message: nothing (`None`), or the message
/// with, for a type 24 part B, the name of its stashed part A.
fn gpsd_admit(queue: &mut Type24Queue, d: &Decoded) -> Option<AisText<20>> {
    let m = &d.message;
    if !gpsd_accepts(m, d.meta.bits as usize) {
        return None;
    }
    match &m.body {
        Body::StaticDataReport(StaticDataReport::PartA(a)) => {
            queue.stash(m.header.mmsi, a.shipname);
            None
        }
        Body::StaticDataReport(StaticDataReport::PartB(_)) => queue.take(m.header.mmsi),
        _ => Some(AisText::default()),
    }
}

/// Writes gpsd daemon JSON (`"scaled":false`) with gpsd's acceptance rules and
/// type 24 pairing, for comparison with gpsd's regression logs.
#[derive(Default)]
pub struct JsonWriter {
    queue: Type24Queue,
}

impl JsonWriter {
    /// Appends the object for `d` to `out`; false where gpsd reports nothing.
    pub fn write(&mut self, d: &Decoded, out: &mut String) -> bool {
        let Some(name24) = gpsd_admit(&mut self.queue, d) else {
            return false;
        };
        write_json(d, JsonStyle::GpsdUnscaled, Some(name24.as_str()), out);
        true
    }
}

/// Writes `gpsdecode -u -c` lines. Holds gpsd's type 24 pairing state.
#[derive(Default)]
pub struct CsvWriter {
    queue: Type24Queue,
}

impl CsvWriter {
    /// Appends the line for `d` (with gpsd's `\r\n`) to `out`. Returns false,
    /// writing nothing, where gpsd prints nothing.
    pub fn write(&mut self, d: &Decoded, out: &mut String) -> bool {
        let Some(name24) = gpsd_admit(&mut self.queue, d) else {
            return false;
        };
        let m = &d.message;
        let bits = d.meta.bits as usize;
        let h = &m.header;
        let _ = write!(out, "{}|{}|{:09}|", h.msg_type, h.repeat, h.mmsi);
        let b = |v: bool| v as u8;
        match &m.body {
            Body::PositionReport(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}|0x{:x}|{}|0x{:x}",
                    p.status,
                    p.turn,
                    p.speed,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.course,
                    p.heading,
                    p.second,
                    p.maneuver,
                    b(p.raim),
                    p.radio
                );
            }
            Body::BaseStationReport(p) => {
                let _ = write!(
                    out,
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z|{}|{}|{}|{}|{}|0x{:x}",
                    p.year,
                    p.month,
                    p.day,
                    p.hour,
                    p.minute,
                    p.second,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.epfd,
                    b(p.raim),
                    p.radio
                );
            }
            Body::StaticAndVoyageData(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{:02}-{:02}T{:02}:{:02}Z|{}|{}|{}",
                    p.imo,
                    p.ais_version,
                    p.callsign,
                    p.shipname,
                    p.shiptype,
                    p.to_bow,
                    p.to_stern,
                    p.to_port,
                    p.to_starboard,
                    p.epfd,
                    p.month,
                    p.day,
                    p.hour,
                    p.minute,
                    p.draught,
                    p.destination,
                    p.dte
                );
            }
            Body::AddressedBinary(p) => {
                let hd = &p.header;
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}",
                    hd.seqno,
                    hd.dest_mmsi,
                    b(hd.retransmit),
                    hd.dac,
                    hd.fid
                );
                match &p.application {
                    Some(Application::AtonMonitoring(a)) => {
                        let _ = write!(
                            out,
                            "|{}|{}|{}|{}|{}|{}|{}|{}",
                            a.ana_int,
                            a.ana_ext1,
                            a.ana_ext2,
                            a.racon,
                            a.light,
                            b(a.alarm),
                            a.stat_ext,
                            b(a.off_pos)
                        );
                    }
                    _ => {
                        let _ = write!(out, "|{}:", p.data.bitcount());
                        if gpsd_structured_6(hd.dac, hd.fid, bits) {
                            x_into(out, &p.data);
                        } else {
                            hex_into(out, &p.data, true);
                        }
                    }
                }
            }
            Body::Acknowledge(a) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}",
                    a.mmsi[0], a.mmsi[1], a.mmsi[2], a.mmsi[3]
                );
            }
            Body::BroadcastBinary(p) => {
                let _ = write!(out, "{}|{}", p.header.dac, p.header.fid);
                match &p.application {
                    Some(Application::MetHydro11(a)) => met_hydro_csv!(out, a),
                    Some(Application::MetHydro31(a)) => met_hydro_csv!(out, a),
                    _ => {
                        let _ = write!(out, "|{}:", p.data.bitcount());
                        if gpsd_structured_8(p, bits) {
                            x_into(out, &p.data);
                        } else {
                            hex_into(out, &p.data, false);
                        }
                    }
                }
            }
            Body::SarAircraftPositionReport(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|0x{:x}|{}|{}|0x{:x}",
                    p.alt,
                    p.speed,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.course,
                    p.second,
                    p.regional,
                    p.dte,
                    b(p.raim),
                    p.radio
                );
            }
            Body::UtcInquiry(p) => {
                let _ = write!(out, "{}", p.dest_mmsi);
            }
            Body::AddressedSafety(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}",
                    p.seqno,
                    p.dest_mmsi,
                    b(p.retransmit),
                    p.text
                );
            }
            Body::BroadcastSafety(p) => {
                let _ = write!(out, "{}", p.text);
            }
            Body::Interrogation(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}",
                    p.mmsi1,
                    p.type1_1,
                    p.offset1_1,
                    p.type1_2,
                    p.offset1_2,
                    p.mmsi2,
                    p.type2_1,
                    p.offset2_1
                );
            }
            Body::AssignedMode(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}",
                    p.mmsi1, p.offset1, p.increment1, p.mmsi2, p.offset2, p.increment2
                );
            }
            Body::GnssBroadcast(p) => {
                let _ = write!(out, "{}|{}|{}:", p.lon, p.lat, p.data.bitcount());
                hex_into(out, &p.data, true);
            }
            Body::ClassBPositionReport(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|0x{:x}|{}|{}|{}|{}|{}|{}|0x{:x}",
                    p.reserved,
                    p.speed,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.course,
                    p.heading,
                    p.second,
                    p.regional,
                    b(p.cs),
                    b(p.display),
                    b(p.dsc),
                    b(p.band),
                    b(p.msg22),
                    b(p.raim),
                    p.radio
                );
            }
            Body::ExtendedClassBPositionReport(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|0x{:x}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                    p.reserved,
                    p.speed,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.course,
                    p.heading,
                    p.second,
                    p.regional,
                    p.shipname,
                    p.shiptype,
                    p.to_bow,
                    p.to_stern,
                    p.to_port,
                    p.to_starboard,
                    p.epfd,
                    b(p.raim),
                    b(p.dte),
                    b(p.assigned)
                );
            }
            Body::DataLinkManagement(p) => {
                for (i, r) in p.reservations.iter().enumerate() {
                    let sep = if i == 0 { "" } else { "|" };
                    let _ = write!(
                        out,
                        "{sep}{}|{}|{}|{}",
                        r.offset, r.number, r.timeout, r.increment
                    );
                }
            }
            Body::AidToNavigation(p) => {
                let f = &p.fields;
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|0x{:x}|{}|{}",
                    f.aid_type,
                    p.name,
                    b(f.accuracy),
                    f.lon,
                    f.lat,
                    f.to_bow,
                    f.to_stern,
                    f.to_port,
                    f.to_starboard,
                    f.epfd,
                    f.second,
                    f.regional,
                    b(f.off_position),
                    b(f.raim),
                    b(f.virtual_aid)
                );
            }
            Body::ChannelManagement(p) => {
                let c = &p.common;
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|",
                    c.channel_a,
                    c.channel_b,
                    c.txrx,
                    b(c.power)
                );
                if c.addressed {
                    let d = &p.destinations;
                    let _ = write!(out, "{}|{}", d.dest1, d.dest2);
                } else {
                    let a = &p.area;
                    let _ = write!(out, "{}|{}|{}|{}", a.ne_lon, a.ne_lat, a.sw_lon, a.sw_lat);
                }
                let _ = write!(
                    out,
                    "|{}|{}|{}|{}",
                    b(c.addressed),
                    b(c.band_a),
                    b(c.band_b),
                    c.zonesize
                );
            }
            Body::GroupAssignment(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|{}",
                    p.ne_lon,
                    p.ne_lat,
                    p.sw_lon,
                    p.sw_lat,
                    p.stationtype,
                    p.shiptype,
                    // gpsd reads Tx/Rx mode as 4 bits at 144, overlapping the interval.
                    (p.txrx << 2) | (p.interval >> 2),
                    p.interval,
                    p.quiet
                );
            }
            Body::StaticDataReport(StaticDataReport::PartB(p)) => {
                type24_csv(out, h.mmsi, &name24, p);
            }
            Body::StaticDataReport(StaticDataReport::PartA(_)) => {}
            Body::SingleSlotBinary(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}:",
                    b(p.addressed),
                    b(p.structured),
                    p.dest_mmsi,
                    p.app_id,
                    p.data.bitcount()
                );
                hex_into(out, &p.data, true);
            }
            Body::MultiSlotBinary(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}:",
                    b(p.addressed),
                    b(p.structured),
                    p.dest_mmsi,
                    p.app_id,
                    p.data.bitcount()
                );
                hex_into(out, &p.data, true);
                // gpsd never reads the radio status of type 26 and prints 0.
                out.push_str(":0");
            }
            Body::LongRangeBroadcast(p) => {
                let _ = write!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}",
                    p.status,
                    b(p.accuracy),
                    p.lon,
                    p.lat,
                    p.speed,
                    p.course,
                    b(p.raim),
                    b(p.gnss)
                );
            }
        }
        out.push_str("\r\n");
        true
    }
}

fn type24_csv(out: &mut String, mmsi: u32, name: &AisText<20>, p: &StaticDataPartB) {
    let c = &p.common;
    let _ = write!(
        out,
        "{}|{}|{}|{}|{}|{}|",
        name,
        c.shiptype,
        c.legacy_vendorid(),
        c.model,
        c.serial,
        c.callsign
    );
    if is_auxiliary_mmsi(mmsi) {
        let _ = write!(out, "{}", p.mothership_mmsi);
    } else {
        let d = &p.dim;
        let _ = write!(
            out,
            "{}|{}|{}|{}",
            d.to_bow, d.to_stern, d.to_port, d.to_starboard
        );
    }
}

// ---------------------------------------------------------------- JSON

/// Navigational status legends, as gpsd prints them in `status_text`.
pub const NAV_STATUS_TEXT: [&str; 16] = [
    "Under way using engine",
    "At anchor",
    "Not under command",
    "Restricted maneuverability",
    "Constrained by her draught",
    "Moored",
    "Aground",
    "Engaged in fishing",
    "Under way sailing",
    "Reserved for HSC",
    "Reserved for WIG",
    "Power-driven vessel towing astern",
    "Power-driven vessel pushing ahead or towing alongside",
    "Reserved",
    "AIS-SART is active",
    "Not defined",
];

/// Position fixing device legends (`epfd_text`).
pub const EPFD_TEXT: [&str; 16] = [
    "Undefined",
    "GPS",
    "GLONASS",
    "Combined GPS/GLONASS",
    "Loran-C",
    "Chayka",
    "Integrated navigation system",
    "Surveyed",
    "Galileo",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Reserved",
    "Internal GNSS",
];

/// Aid-to-navigation type legends (`aid_type_text`).
pub const AID_TYPE_TEXT: [&str; 32] = [
    "Unspecified",
    "Reference point",
    "RACON",
    "Fixed offshore structure",
    "Spare, Reserved for future use.",
    "Light, without sectors",
    "Light, with sectors",
    "Leading Light Front",
    "Leading Light Rear",
    "Beacon, Cardinal N",
    "Beacon, Cardinal E",
    "Beacon, Cardinal S",
    "Beacon, Cardinal W",
    "Beacon, Port hand",
    "Beacon, Starboard hand",
    "Beacon, Preferred Channel port hand",
    "Beacon, Preferred Channel starboard hand",
    "Beacon, Isolated danger",
    "Beacon, Safe water",
    "Beacon, Special mark",
    "Cardinal Mark N",
    "Cardinal Mark E",
    "Cardinal Mark S",
    "Cardinal Mark W",
    "Port hand Mark",
    "Starboard hand Mark",
    "Preferred Channel Port hand",
    "Preferred Channel Starboard hand",
    "Isolated danger",
    "Safe Water",
    "Special Mark",
    "Light Vessel / LANBY / Rigs",
];

/// Station type legends for type 23 (`stationtype_text`).
pub const STATION_TYPE_TEXT: [&str; 16] = [
    "All types of mobiles",
    "Reserved for future use",
    "All types of Class B mobile stations",
    "SAR airborne mobile station",
    "Aid to Navigation station",
    "Class B shipborne mobile station (IEC62287 only)",
    "Regional use and inland waterways",
    "Regional use and inland waterways",
    "Regional use and inland waterways",
    "Regional use and inland waterways",
    "Reserved for future use",
    "Reserved for future use",
    "Reserved for future use",
    "Reserved for future use",
    "Reserved for future use",
    "Reserved for future use",
];

/// RACON status legends (GLA AtoN monitoring, type 6 DAC 235 FI 10).
pub const RACON_TEXT: [&str; 4] = [
    "No RACON installed",
    "RACON not monitored",
    "RACON operational",
    "RACON ERROR",
];
/// Light status legends (same message).
pub const LIGHT_TEXT: [&str; 4] = [
    "No light or no monitoring",
    "Light ON",
    "Light OFF",
    "Light ERROR",
];
/// Inland hazardous cargo legends (type 8 DAC 200 FI 10).
pub const HAZARD_TEXT: [&str; 6] = [
    "0 blue cones/lights",
    "1 blue cone/light",
    "2 blue cones/lights",
    "3 blue cones/lights",
    "4 B-Flag",
    "Unknown",
];
/// Inland loaded/unloaded legends.
pub const LOADED_TEXT: [&str; 3] = ["N/A (default)", "Unloaded", "Loaded"];
/// Precipitation type legends (IMO289 met/hydro).
pub const PRECIPITATION_TEXT: [&str; 8] = [
    "Reserved",
    "Rain",
    "Thunderstorm",
    "Freezing rain",
    "Mixed/ice",
    "Snow",
    "Reserved",
    "N/A",
];
/// Ice legends (IMO289 met/hydro).
pub const ICE_TEXT: [&str; 4] = ["No", "Yes", "Reserved", "N/A"];

/// Ship and cargo type legend (`shiptype_text`), ITU-R M.1371 Table 53 in
/// gpsd's words: a group name and a category, joined by `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShipTypeText {
    group: &'static str,
    category: &'static str,
}

impl std::fmt::Display for ShipTypeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.group)?;
        f.write_str(self.category)
    }
}

/// The `shiptype_text` legend of a ship and cargo type code.
pub fn ship_type_text(t: u8) -> ShipTypeText {
    const CATEGORY: [&str; 10] = [
        " - all ships of this type",
        " - Hazardous category A",
        " - Hazardous category B",
        " - Hazardous category C",
        " - Hazardous category D",
        " - Reserved for future use",
        " - Reserved for future use",
        " - Reserved for future use",
        " - Reserved for future use",
        " - No additional information",
    ];
    const SPECIAL_30: [&str; 10] = [
        "Fishing",
        "Towing",
        "Towing: length exceeds 200m or breadth exceeds 25m",
        "Dredging or underwater ops",
        "Diving ops",
        "Military ops",
        "Sailing",
        "Pleasure Craft",
        "Reserved",
        "Reserved",
    ];
    const SPECIAL_50: [&str; 10] = [
        "Pilot Vessel",
        "Search and Rescue vessel",
        "Tug",
        "Port Tender",
        "Anti-pollution equipment",
        "Law Enforcement",
        "Spare - Local Vessel",
        "Spare - Local Vessel",
        "Medical Transport",
        "Ship according to RR Resolution No. 18",
    ];
    let whole = |group| ShipTypeText {
        group,
        category: "",
    };
    let unit = (t % 10) as usize;
    let grouped = |group| ShipTypeText {
        group,
        category: CATEGORY[unit],
    };
    match t {
        0 => whole("Not available"),
        1..=19 => whole("Reserved for future use"),
        20..=29 => grouped("Wing in ground (WIG)"),
        30..=39 => whole(SPECIAL_30[unit]),
        40..=49 => grouped("High speed craft (HSC)"),
        50..=59 => whole(SPECIAL_50[unit]),
        60..=69 => grouped("Passenger"),
        70..=79 => grouped("Cargo"),
        80..=89 => grouped("Tanker"),
        99 => whole("Other Type - no additional information"),
        90..=98 => grouped("Other Type"),
        _ => whole("Illegal ship type value."),
    }
}

/// How to write JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// gpsd daemon style: raw integers, `"scaled":false`, no metadata.
    GpsdUnscaled,
    /// Our NDJSON: gpsd names, values in degrees and knots, "not available"
    /// values left out, plus `received`, `station`, `channel`, `line`, `flags`.
    Scaled,
}

struct Obj<'a> {
    out: &'a mut String,
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        self.out.push_str(",\"");
        self.out.push_str(k);
        self.out.push_str("\":");
    }
    fn u(&mut self, k: &str, v: impl Into<u64>) {
        self.key(k);
        let _ = write!(self.out, "{}", v.into());
    }
    fn i(&mut self, k: &str, v: impl Into<i64>) {
        self.key(k);
        let _ = write!(self.out, "{}", v.into());
    }
    fn b(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v { "true" } else { "false" });
    }
    fn f(&mut self, k: &str, v: f64, decimals: usize) {
        self.key(k);
        let _ = write!(self.out, "{v:.decimals$}");
        // Trim trailing zeros for compactness, keeping one decimal.
        while self.out.ends_with('0') && !self.out.ends_with(".0") {
            self.out.pop();
        }
    }
    fn s(&mut self, k: &str, v: &str) {
        self.key(k);
        write_json_string(self.out, v);
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes one JSON object (no newline) for `d`. `name24` is the part A name
/// gpsd joins to a part B (gpsd style only).
pub fn write_json(d: &Decoded, style: JsonStyle, name24: Option<&str>, out: &mut String) {
    let m = &d.message;
    let h = &m.header;
    let scaled = style == JsonStyle::Scaled;
    let _ = write!(
        out,
        "{{\"class\":\"AIS\",\"type\":{},\"repeat\":{},\"mmsi\":{}",
        h.msg_type, h.repeat, h.mmsi
    );
    let mut o = Obj { out };
    o.b("scaled", scaled);
    // Scaled helpers: degrees from 1/10 000 minute, with sentinels left out.
    let pos = |o: &mut Obj<'_>, lon: i32, lat: i32, div: f64| {
        if scaled {
            if lon != (181.0 * div) as i32 {
                o.f("lon", lon as f64 / div, 6);
            }
            if lat != (91.0 * div) as i32 {
                o.f("lat", lat as f64 / div, 6);
            }
        } else {
            o.i("lon", lon);
            o.i("lat", lat);
        }
    };
    let speed10 = |o: &mut Obj<'_>, v: u16| {
        if !scaled {
            o.u("speed", v);
        } else if v < 1023 {
            o.f("speed", v as f64 / 10.0, 1);
        }
    };
    let course10 = |o: &mut Obj<'_>, v: u16| {
        if !scaled {
            o.u("course", v);
        } else if v < 3600 {
            o.f("course", v as f64 / 10.0, 1);
        }
    };
    let heading = |o: &mut Obj<'_>, v: u16| {
        if !scaled || v < 360 {
            o.u("heading", v);
        }
    };
    let shiptype = |o: &mut Obj<'_>, t: u8| {
        o.u("shiptype", t);
        o.key("shiptype_text");
        // Legends are plain ASCII without quotes or backslashes: no escaping needed.
        let _ = write!(o.out, "\"{}\"", ship_type_text(t));
    };
    let epfd = |o: &mut Obj<'_>, e: u8| {
        o.u("epfd", e);
        o.s("epfd_text", EPFD_TEXT[(e & 15) as usize]);
    };
    let dims = |o: &mut Obj<'_>, bow: u16, stern: u16, port: u8, star: u8| {
        o.u("to_bow", bow);
        o.u("to_stern", stern);
        o.u("to_port", port);
        o.u("to_starboard", star);
    };
    let data = |o: &mut Obj<'_>, dd: &BinaryData| {
        o.key("data");
        let _ = write!(o.out, "\"{}:", dd.bitcount());
        hex_into(o.out, dd, h.msg_type != 8);
        o.out.push('"');
    };
    match &m.body {
        Body::PositionReport(p) => {
            o.u("status", p.status);
            o.s("status_text", NAV_STATUS_TEXT[(p.status & 15) as usize]);
            if !scaled {
                o.i("turn", p.turn);
            } else {
                match p.turn {
                    -128 => {}
                    127 => o.s("turn", "fastright"),
                    -127 => o.s("turn", "fastleft"),
                    t => o.f("turn", crate::records::rot(t).unwrap_or(0.0) as f64, 1),
                }
            }
            speed10(&mut o, p.speed);
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600_000.0);
            course10(&mut o, p.course);
            heading(&mut o, p.heading);
            o.u("second", p.second);
            o.u("maneuver", p.maneuver);
            o.b("raim", p.raim);
            o.u("radio", p.radio);
        }
        Body::BaseStationReport(p) => {
            o.key("timestamp");
            let _ = write!(
                o.out,
                "\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z\"",
                p.year, p.month, p.day, p.hour, p.minute, p.second
            );
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600_000.0);
            epfd(&mut o, p.epfd);
            o.b("raim", p.raim);
            o.u("radio", p.radio);
        }
        Body::StaticAndVoyageData(p) => {
            o.u("imo", p.imo);
            o.u("ais_version", p.ais_version);
            o.s("callsign", p.callsign.as_str());
            o.s("shipname", p.shipname.as_str());
            shiptype(&mut o, p.shiptype);
            dims(&mut o, p.to_bow, p.to_stern, p.to_port, p.to_starboard);
            epfd(&mut o, p.epfd);
            o.key("eta");
            let _ = write!(
                o.out,
                "\"{:02}-{:02}T{:02}:{:02}Z\"",
                p.month, p.day, p.hour, p.minute
            );
            if scaled {
                o.f("draught", p.draught as f64 / 10.0, 1);
            } else {
                o.u("draught", p.draught);
            }
            o.s("destination", p.destination.as_str());
            o.u("dte", p.dte);
        }
        Body::AddressedBinary(p) => {
            let hd = &p.header;
            o.u("seqno", hd.seqno);
            o.u("dest_mmsi", hd.dest_mmsi);
            o.b("retransmit", hd.retransmit);
            o.u("dac", hd.dac);
            o.u("fid", hd.fid);
            match &p.application {
                Some(Application::AtonMonitoring(a)) => {
                    o.u("ana_int", a.ana_int);
                    o.u("ana_ext1", a.ana_ext1);
                    o.u("ana_ext2", a.ana_ext2);
                    o.u("racon", a.racon);
                    o.s("racon_text", RACON_TEXT[(a.racon & 3) as usize]);
                    o.u("light", a.light);
                    o.s("light_text", LIGHT_TEXT[(a.light & 3) as usize]);
                    o.b("alarm", a.alarm);
                    o.u("stat_ext", a.stat_ext);
                    o.b("off_pos", a.off_pos);
                }
                Some(Application::InlandPersonsOnBoard(a)) => {
                    o.u("crew", a.crew);
                    o.u("passengers", a.passengers);
                    o.u("personnel", a.personnel);
                }
                _ => data(&mut o, &p.data),
            }
        }
        Body::Acknowledge(a) => {
            for (i, k) in ["mmsi1", "mmsi2", "mmsi3", "mmsi4"].iter().enumerate() {
                o.u(k, a.mmsi[i]);
            }
            if scaled {
                for (i, k) in ["seqno1", "seqno2", "seqno3", "seqno4"].iter().enumerate() {
                    o.u(k, a.seqno[i]);
                }
            }
        }
        Body::BroadcastBinary(p) => {
            o.u("dac", p.header.dac);
            o.u("fid", p.header.fid);
            match &p.application {
                Some(Application::MetHydro31(a)) => {
                    met_hydro_json!(&mut o, a);
                    o.b("accuracy", a.accuracy);
                    o.b("visgreater", a.visgreater);
                }
                Some(Application::MetHydro11(a)) => met_hydro_json!(&mut o, a),
                Some(Application::InlandStaticData(a)) => {
                    o.s("vin", a.vin.as_str());
                    o.u("length", a.length);
                    o.u("beam", a.beam);
                    o.u("shiptype", a.shiptype);
                    o.u("hazard", a.hazard);
                    o.s(
                        "hazard_text",
                        HAZARD_TEXT
                            .get(a.hazard as usize)
                            .copied()
                            .unwrap_or("Unknown"),
                    );
                    o.u("draught", a.draught);
                    o.u("loaded", a.loaded);
                    o.s(
                        "loaded_text",
                        LOADED_TEXT
                            .get(a.loaded as usize)
                            .copied()
                            .unwrap_or("Reserved"),
                    );
                    o.b("speed_q", a.speed_q);
                    o.b("course_q", a.course_q);
                    o.b("heading_q", a.heading_q);
                }
                _ => data(&mut o, &p.data),
            }
        }
        Body::SarAircraftPositionReport(p) => {
            o.u("alt", p.alt);
            if !scaled || p.speed < 1023 {
                o.u("speed", p.speed);
            }
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600_000.0);
            course10(&mut o, p.course);
            o.u("second", p.second);
            o.u("regional", p.regional);
            o.u("dte", p.dte);
            if scaled {
                o.b("assigned", p.assigned);
            }
            o.b("raim", p.raim);
            o.u("radio", p.radio);
        }
        Body::UtcInquiry(p) => o.u("dest_mmsi", p.dest_mmsi),
        Body::AddressedSafety(p) => {
            o.u("seqno", p.seqno);
            o.u("dest_mmsi", p.dest_mmsi);
            o.b("retransmit", p.retransmit);
            o.s("text", p.text.as_str());
        }
        Body::BroadcastSafety(p) => o.s("text", p.text.as_str()),
        Body::Interrogation(p) => {
            o.u("mmsi1", p.mmsi1);
            o.u("type1_1", p.type1_1);
            o.u("offset1_1", p.offset1_1);
            o.u("type1_2", p.type1_2);
            o.u("offset1_2", p.offset1_2);
            o.u("mmsi2", p.mmsi2);
            o.u("type2_1", p.type2_1);
            o.u("offset2_1", p.offset2_1);
        }
        Body::AssignedMode(p) => {
            o.u("mmsi1", p.mmsi1);
            o.u("offset1", p.offset1);
            o.u("increment1", p.increment1);
            o.u("mmsi2", p.mmsi2);
            o.u("offset2", p.offset2);
            o.u("increment2", p.increment2);
        }
        Body::GnssBroadcast(p) => {
            pos(&mut o, p.lon, p.lat, 600.0);
            data(&mut o, &p.data);
        }
        Body::ClassBPositionReport(p) => {
            o.u("reserved", p.reserved);
            speed10(&mut o, p.speed);
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600_000.0);
            course10(&mut o, p.course);
            heading(&mut o, p.heading);
            o.u("second", p.second);
            o.u("regional", p.regional);
            o.b("cs", p.cs);
            o.b("display", p.display);
            o.b("dsc", p.dsc);
            o.b("band", p.band);
            o.b("msg22", p.msg22);
            if scaled {
                o.b("assigned", p.assigned);
            }
            o.b("raim", p.raim);
            o.u("radio", p.radio);
        }
        Body::ExtendedClassBPositionReport(p) => {
            o.u("reserved", p.reserved);
            speed10(&mut o, p.speed);
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600_000.0);
            course10(&mut o, p.course);
            heading(&mut o, p.heading);
            o.u("second", p.second);
            o.u("regional", p.regional);
            o.s("shipname", p.shipname.as_str());
            shiptype(&mut o, p.shiptype);
            dims(&mut o, p.to_bow, p.to_stern, p.to_port, p.to_starboard);
            epfd(&mut o, p.epfd);
            o.b("raim", p.raim);
            o.u("dte", p.dte as u8);
            o.b("assigned", p.assigned);
        }
        Body::DataLinkManagement(p) => {
            const K: [[&str; 4]; 4] = [
                ["offset1", "number1", "timeout1", "increment1"],
                ["offset2", "number2", "timeout2", "increment2"],
                ["offset3", "number3", "timeout3", "increment3"],
                ["offset4", "number4", "timeout4", "increment4"],
            ];
            for (r, k) in p.reservations.iter().zip(K) {
                o.u(k[0], r.offset);
                o.u(k[1], r.number);
                o.u(k[2], r.timeout);
                o.u(k[3], r.increment);
            }
        }
        Body::AidToNavigation(p) => {
            let f = &p.fields;
            o.u("aid_type", f.aid_type);
            o.s("aid_type_text", AID_TYPE_TEXT[(f.aid_type & 31) as usize]);
            o.s("name", p.name.as_str());
            o.b("accuracy", f.accuracy);
            pos(&mut o, f.lon, f.lat, 600_000.0);
            dims(&mut o, f.to_bow, f.to_stern, f.to_port, f.to_starboard);
            epfd(&mut o, f.epfd);
            o.u("second", f.second);
            o.u("regional", f.regional);
            o.b("off_position", f.off_position);
            o.b("raim", f.raim);
            o.b("virtual_aid", f.virtual_aid);
            if scaled {
                o.b("assigned", f.assigned);
            }
        }
        Body::ChannelManagement(p) => {
            let c = &p.common;
            o.u("channel_a", c.channel_a);
            o.u("channel_b", c.channel_b);
            o.u("txrx", c.txrx);
            o.b("power", c.power);
            if c.addressed {
                o.u("dest1", p.destinations.dest1);
                o.u("dest2", p.destinations.dest2);
            } else {
                let a = &p.area;
                if scaled {
                    o.f("ne_lon", a.ne_lon as f64 / 600.0, 4);
                    o.f("ne_lat", a.ne_lat as f64 / 600.0, 4);
                    o.f("sw_lon", a.sw_lon as f64 / 600.0, 4);
                    o.f("sw_lat", a.sw_lat as f64 / 600.0, 4);
                } else {
                    o.i("ne_lon", a.ne_lon);
                    o.i("ne_lat", a.ne_lat);
                    o.i("sw_lon", a.sw_lon);
                    o.i("sw_lat", a.sw_lat);
                }
            }
            o.b("addressed", c.addressed);
            o.b("band_a", c.band_a);
            o.b("band_b", c.band_b);
            o.u("zonesize", c.zonesize);
        }
        Body::GroupAssignment(p) => {
            if scaled {
                o.f("ne_lon", p.ne_lon as f64 / 600.0, 4);
                o.f("ne_lat", p.ne_lat as f64 / 600.0, 4);
                o.f("sw_lon", p.sw_lon as f64 / 600.0, 4);
                o.f("sw_lat", p.sw_lat as f64 / 600.0, 4);
            } else {
                o.i("ne_lon", p.ne_lon);
                o.i("ne_lat", p.ne_lat);
                o.i("sw_lon", p.sw_lon);
                o.i("sw_lat", p.sw_lat);
            }
            o.u("stationtype", p.stationtype);
            o.s(
                "stationtype_text",
                STATION_TYPE_TEXT[(p.stationtype & 15) as usize],
            );
            shiptype(&mut o, p.shiptype);
            if scaled {
                o.u("txrx", p.txrx);
            }
            o.u("interval", p.interval);
            o.u("quiet", p.quiet);
        }
        Body::StaticDataReport(StaticDataReport::PartA(a)) => {
            if scaled {
                o.s("part", "A");
            }
            o.s("shipname", a.shipname.as_str());
        }
        Body::StaticDataReport(StaticDataReport::PartB(b)) => {
            if scaled {
                o.s("part", "B");
            }
            if let Some(n) = name24.filter(|_| !scaled) {
                o.s("shipname", n);
            }
            let c = &b.common;
            shiptype(&mut o, c.shiptype);
            if scaled {
                o.s("vendorid", c.vendorid.as_str());
            } else {
                o.s("vendorid", c.legacy_vendorid().as_str());
            }
            o.u("model", c.model);
            o.u("serial", c.serial);
            o.s("callsign", c.callsign.as_str());
            if is_auxiliary_mmsi(h.mmsi) {
                o.u("mothership_mmsi", b.mothership_mmsi);
            } else {
                dims(
                    &mut o,
                    b.dim.to_bow,
                    b.dim.to_stern,
                    b.dim.to_port,
                    b.dim.to_starboard,
                );
            }
        }
        Body::SingleSlotBinary(p) | Body::MultiSlotBinary(p) => {
            o.b("addressed", p.addressed);
            o.b("structured", p.structured);
            o.u("dest_mmsi", p.dest_mmsi);
            o.u("app_id", p.app_id);
            if p.structured {
                // A structured application id is a DAC (10 bits) and FI (6 bits).
                o.u("dac", p.app_id >> 6);
                o.u("fid", p.app_id & 63);
            }
            data(&mut o, &p.data);
            if h.msg_type == 26 {
                o.u("radio", p.radio);
            }
        }
        Body::LongRangeBroadcast(p) => {
            o.u("status", p.status);
            if scaled {
                o.s("status_text", NAV_STATUS_TEXT[(p.status & 15) as usize]);
            }
            o.b("accuracy", p.accuracy);
            pos(&mut o, p.lon, p.lat, 600.0);
            if !scaled || p.speed < 63 {
                o.u("speed", p.speed);
            }
            if !scaled || p.course < 360 {
                o.u("course", p.course);
            }
            o.b("raim", p.raim);
            o.b("gnss", p.gnss);
        }
    }
    if scaled {
        let meta = &d.meta;
        if let Some(t) = meta.received {
            o.key("received");
            let _ = write!(o.out, "\"{t}\"");
        }
        if !meta.station.is_empty() {
            o.s("station", meta.station.as_str());
        }
        if let Some(c) = meta.channel {
            if c.is_ascii_graphic() {
                o.key("channel");
                let _ = write!(o.out, "\"{}\"", c as char);
            }
        }
        if meta.own_ship {
            o.b("own_ship", true);
        }
        o.u("line", meta.line);
        if !meta.flags.is_empty() {
            o.key("flags");
            o.out.push('[');
            let mut first = true;
            for (f, name) in Flags::NAMES {
                if meta.flags.contains(f) {
                    if !first {
                        o.out.push(',');
                    }
                    first = false;
                    let _ = write!(o.out, "\"{name}\"");
                }
            }
            o.out.push(']');
        }
    }
    o.out.push('}');
}
