//! The normalised view of messages that the rest of shadowfleet consumes:
//! scaled units, and "not available" sentinels mapped to `None`.
//!
//! Sentinels (ITU-R M.1371-5): latitude 91°, longitude 181°, SOG 1023
//! (102.3 kn), COG 3600 (360.0°), heading 511, ROT −128, draught 0, IMO 0,
//! ETA month 0 / day 0 / hour 24 / minute 60; type 27: SOG 63, COG 511.

use crate::messages::{AisMessage, Body, StaticDataReport};

/// What kind of station sent a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportClass {
    /// Class A (types 1–3).
    ClassA,
    /// Class B (types 18, 19).
    ClassB,
    /// Long-range broadcast (type 27), reduced resolution.
    LongRange,
    /// SAR aircraft (type 9).
    SarAircraft,
    /// Base station (type 4).
    BaseStation,
    /// Aid to navigation (type 21).
    AidToNavigation,
}

/// A position report, scaled.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VesselPosition {
    /// Source MMSI as transmitted.
    pub mmsi: u32,
    /// Sender class.
    pub class: ReportClass,
    /// Latitude, degrees.
    pub lat: f64,
    /// Longitude, degrees.
    pub lon: f64,
    /// Speed over ground, knots.
    pub sog_knots: Option<f32>,
    /// Course over ground, degrees.
    pub cog_deg: Option<f32>,
    /// True heading, degrees.
    pub heading_deg: Option<u16>,
    /// Navigational status (0–14), `None` for 15 (not defined) or when not sent.
    pub nav_status: Option<u8>,
    /// Rate of turn, degrees per minute (sign: right positive); `None` when not
    /// available or only "turning fast" is known.
    pub rot_deg_min: Option<f32>,
    /// Position accuracy better than 10 m.
    pub high_accuracy: bool,
    /// UTC second of the fix (0–59) when given.
    pub second: Option<u8>,
}

/// Static and voyage data, scaled; every field optional.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct VesselStatic<'a> {
    /// Source MMSI.
    pub mmsi: u32,
    /// IMO number as sent (not validated).
    pub imo: Option<u32>,
    /// Name.
    pub name: Option<&'a str>,
    /// Call sign.
    pub callsign: Option<&'a str>,
    /// Ship and cargo type (ITU-R M.1371 Table 53).
    pub ship_type: Option<u8>,
    /// Length overall, metres (bow + stern).
    pub length_m: Option<u16>,
    /// Beam, metres (port + starboard).
    pub beam_m: Option<u16>,
    /// Draught, metres.
    pub draught_m: Option<f32>,
    /// Destination as typed by the crew.
    pub destination: Option<&'a str>,
    /// ETA as (month, day, hour, minute), when complete.
    pub eta: Option<(u8, u8, u8, u8)>,
}

const LAT_NA: i32 = 91 * 600_000;
const LON_NA: i32 = 181 * 600_000;

fn degrees(lat_raw: i32, lon_raw: i32, per_degree: f64) -> Option<(f64, f64)> {
    let lat = lat_raw as f64 / per_degree;
    let lon = lon_raw as f64 / per_degree;
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lat, lon))
}

fn sog(raw: u16) -> Option<f32> {
    (raw < 1023).then(|| raw as f32 / 10.0)
}

fn cog(raw: u16) -> Option<f32> {
    (raw < 3600).then(|| raw as f32 / 10.0)
}

fn heading(raw: u16) -> Option<u16> {
    (raw < 360).then_some(raw)
}

fn second(raw: u8) -> Option<u8> {
    (raw < 60).then_some(raw)
}

/// ROT_AIS → degrees per minute: ROT = (ROT_AIS / 4.733)², signed (ITU-R M.1371-5 Table 48).
pub(crate) fn rot(raw: i8) -> Option<f32> {
    match raw {
        -128 | -127 | 127 => None,
        r => {
            let v = (r as f32 / 4.733).powi(2);
            Some(if r < 0 { -v } else { v })
        }
    }
}

fn text<const N: usize>(t: &crate::AisText<N>) -> Option<&str> {
    (!t.is_empty()).then(|| t.as_str())
}

fn dims(bow: u16, stern: u16, port: u8, starboard: u8) -> (Option<u16>, Option<u16>) {
    let length = bow + stern;
    let beam = port as u16 + starboard as u16;
    ((length > 0).then_some(length), (beam > 0).then_some(beam))
}

impl AisMessage {
    /// The position this message reports, if any and if valid (sentinels and
    /// out-of-range coordinates give `None`).
    pub fn position(&self) -> Option<VesselPosition> {
        let mmsi = self.header.mmsi;
        // The fields every report has; each type adds what it carries.
        let base = |class, lat: i32, lon: i32, high_accuracy, sec: u8| {
            if lat == LAT_NA || lon == LON_NA {
                return None;
            }
            let (lat, lon) = degrees(lat, lon, 600_000.0)?;
            Some(VesselPosition {
                mmsi,
                class,
                lat,
                lon,
                sog_knots: None,
                cog_deg: None,
                heading_deg: None,
                nav_status: None,
                rot_deg_min: None,
                high_accuracy,
                second: second(sec),
            })
        };
        match &self.body {
            Body::PositionReport(m) => Some(VesselPosition {
                sog_knots: sog(m.speed),
                cog_deg: cog(m.course),
                heading_deg: heading(m.heading),
                nav_status: (m.status < 15).then_some(m.status),
                rot_deg_min: rot(m.turn),
                ..base(ReportClass::ClassA, m.lat, m.lon, m.accuracy, m.second)?
            }),
            Body::ClassBPositionReport(m) => Some(VesselPosition {
                sog_knots: sog(m.speed),
                cog_deg: cog(m.course),
                heading_deg: heading(m.heading),
                ..base(ReportClass::ClassB, m.lat, m.lon, m.accuracy, m.second)?
            }),
            Body::ExtendedClassBPositionReport(m) => Some(VesselPosition {
                sog_knots: sog(m.speed),
                cog_deg: cog(m.course),
                heading_deg: heading(m.heading),
                ..base(ReportClass::ClassB, m.lat, m.lon, m.accuracy, m.second)?
            }),
            Body::SarAircraftPositionReport(m) => Some(VesselPosition {
                // SAR aircraft report speed in whole knots (ITU-R M.1371 Table 61).
                sog_knots: (m.speed < 1023).then_some(m.speed as f32),
                cog_deg: cog(m.course),
                ..base(ReportClass::SarAircraft, m.lat, m.lon, m.accuracy, m.second)?
            }),
            Body::BaseStationReport(m) if self.header.msg_type == 4 => {
                base(ReportClass::BaseStation, m.lat, m.lon, m.accuracy, 60)
            }
            Body::AidToNavigation(m) => {
                let f = &m.fields;
                base(
                    ReportClass::AidToNavigation,
                    f.lat,
                    f.lon,
                    f.accuracy,
                    f.second,
                )
            }
            Body::LongRangeBroadcast(m) => {
                if m.lat == 91 * 600 || m.lon == 181 * 600 {
                    return None;
                }
                let (lat, lon) = degrees(m.lat, m.lon, 600.0)?;
                Some(VesselPosition {
                    mmsi,
                    class: ReportClass::LongRange,
                    lat,
                    lon,
                    sog_knots: (m.speed < 63).then_some(m.speed as f32),
                    cog_deg: (m.course < 360).then_some(m.course as f32),
                    heading_deg: None,
                    nav_status: (m.status < 15).then_some(m.status),
                    rot_deg_min: None,
                    high_accuracy: m.accuracy,
                    second: None,
                })
            }
            _ => None,
        }
    }

    /// The static or voyage data this message carries, if any.
    pub fn static_data(&self) -> Option<VesselStatic<'_>> {
        let mmsi = self.header.mmsi;
        match &self.body {
            Body::StaticAndVoyageData(m) => {
                let (length_m, beam_m) = dims(m.to_bow, m.to_stern, m.to_port, m.to_starboard);
                let eta_ok = m.month != 0 && m.day != 0 && m.hour < 24 && m.minute < 60;
                Some(VesselStatic {
                    mmsi,
                    imo: (m.imo != 0).then_some(m.imo),
                    name: text(&m.shipname),
                    callsign: text(&m.callsign),
                    ship_type: (m.shiptype != 0).then_some(m.shiptype),
                    length_m,
                    beam_m,
                    draught_m: (m.draught != 0).then(|| m.draught as f32 / 10.0),
                    destination: text(&m.destination),
                    eta: eta_ok.then_some((m.month, m.day, m.hour, m.minute)),
                })
            }
            Body::StaticDataReport(StaticDataReport::PartA(a)) => Some(VesselStatic {
                mmsi,
                name: text(&a.shipname),
                ..Default::default()
            }),
            Body::StaticDataReport(StaticDataReport::PartB(b)) => {
                let d = &b.dim;
                let (length_m, beam_m) = dims(d.to_bow, d.to_stern, d.to_port, d.to_starboard);
                Some(VesselStatic {
                    mmsi,
                    callsign: text(&b.common.callsign),
                    ship_type: (b.common.shiptype != 0).then_some(b.common.shiptype),
                    length_m,
                    beam_m,
                    ..Default::default()
                })
            }
            Body::ExtendedClassBPositionReport(m) => {
                let (length_m, beam_m) = dims(m.to_bow, m.to_stern, m.to_port, m.to_starboard);
                Some(VesselStatic {
                    mmsi,
                    name: text(&m.shipname),
                    ship_type: (m.shiptype != 0).then_some(m.shiptype),
                    length_m,
                    beam_m,
                    ..Default::default()
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Decoder, FnSink};

    fn first(line: &str) -> crate::AisMessage {
        let mut d = Decoder::default();
        let mut out = None;
        d.push_line(
            line.as_bytes(),
            &mut FnSink(|m: &crate::Decoded| out = Some(m.message)),
        );
        out.unwrap()
    }

    #[test]
    fn position_is_scaled_with_sentinels_as_none() {
        // gpsd sample: type 1, speed 12.3 kn, heading 215, turn "fast left".
        let p = first("!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A")
            .position()
            .unwrap();
        assert!((p.lat - 48.381633).abs() < 1e-6 && (p.lon + 123.395383).abs() < 1e-6);
        assert_eq!(
            (p.sog_knots, p.cog_deg, p.heading_deg),
            (Some(12.3), Some(224.0), Some(215))
        );
        assert_eq!((p.nav_status, p.rot_deg_min), (Some(0), None));
        // Type 4 with latitude 91 / longitude 181: no position.
        assert!(first("!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D")
            .position()
            .is_some());
        let na = first("!AIVDM,1,1,,A,403Ovl@000Htt<tSF0l4Q@100`Pq,0*28");
        assert!(na.position().is_none());
    }

    #[test]
    fn static_data_maps_zero_to_none() {
        let m = first("!AIVDM,1,1,,A,H3uEwS4T0000000C4phhj0104130,0*43");
        let s = m.static_data().unwrap();
        assert_eq!(s.callsign, Some("SD8002"));
        assert_eq!(s.ship_type, Some(36));
        assert_eq!((s.length_m, s.beam_m), (Some(12), Some(4)));
        assert_eq!((s.imo, s.draught_m, s.name), (None, None, None));
    }
}
