//! Sampled exports: the simulated AIS as a commercial portal exports it, so that the eval
//! measures what analysts hold. One position per vessel every few minutes, the identity of
//! its last static report beside it, semicolon-separated with decimal commas, epoch
//! milliseconds, speed in tenths of a knot, the ship type in words, and rows shuffled
//! (within blocks of [`BLOCK_ROWS`], so that memory stays bounded): the order jumps back
//! by hours, as in the exports that broke the first version. Late relays are left out, as
//! a portal's own clean view would.

use std::collections::HashMap;
use std::io::{BufRead, Write};

use shadowfleet_decode::{Decoded, Decoder, DecoderConfig, Sink};

use crate::rng::Rng;
use crate::SimError;

/// Rows shuffled together.
pub const BLOCK_ROWS: usize = 50_000;

/// The header of a sampled export.
pub const HEADER: &str = "\"MMSI\";\"TIMESTAMP\";\"LAT\";\"LONG\";\"SPEED (0.1 KN)\";\"COURSE\";\"HEADING\";\"IMO\";\"NAME\";\"SHIPTYPE\";\"DRAUGHT\"";

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Position reports read from the AIS.
    pub positions: u64,
    /// Rows written (one per vessel per interval).
    pub rows: u64,
    /// Position reports without a receive time, which no export can place.
    pub untimed: u64,
    /// Late relays left out (a portal's clean view).
    pub relays: u64,
}

#[derive(Default, Clone)]
struct Identity {
    imo: Option<u32>,
    name: String,
    ship_type: Option<u8>,
    draught: Option<f32>,
}

struct Sampler<'w, W: Write> {
    every_ms: i64,
    last: HashMap<u32, i64>,
    identity: HashMap<u32, Identity>,
    block: Vec<String>,
    rng: Rng,
    out: &'w mut W,
    report: ExportReport,
    error: Option<std::io::Error>,
}

/// Words portals use for the ITU ship and cargo type.
fn type_words(code: u8) -> &'static str {
    match code {
        80..=89 => "Crude Oil Tanker",
        70..=79 => "General Cargo",
        60..=69 => "Passenger",
        30 => "Fishing",
        31 | 32 | 52 => "Tug",
        _ => "Other",
    }
}

fn comma(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}").replace('.', ",")
}

impl<W: Write> Sampler<'_, W> {
    fn flush(&mut self) {
        // Fisher-Yates with the export's own stream.
        for i in (1..self.block.len()).rev() {
            let j = self.rng.below(i + 1);
            self.block.swap(i, j);
        }
        for row in self.block.drain(..) {
            if self.error.is_none() {
                if let Err(e) = self.out.write_all(row.as_bytes()) {
                    self.error = Some(e);
                }
            }
        }
    }
}

impl<W: Write> Sink for Sampler<'_, W> {
    fn message(&mut self, msg: &Decoded) {
        if let Some(s) = msg.message.static_data() {
            let id = self.identity.entry(s.mmsi).or_default();
            id.imo = s.imo.or(id.imo);
            if let Some(n) = s.name {
                id.name = n.replace(['"', ';'], " ");
            }
            id.ship_type = s.ship_type.or(id.ship_type);
            id.draught = s.draught_m.or(id.draught);
            return;
        }
        let Some(p) = msg.message.position() else {
            return;
        };
        self.report.positions += 1;
        let Some(t) = msg.meta.received.map(|t| t.unix_millis()) else {
            self.report.untimed += 1;
            return;
        };
        // A portal exports its own clean view: a report heard again late (its UTC second at
        // odds with the receive time) is not a position of that time.
        if let Some(s) = p.second {
            let off = (t.div_euclid(1000).rem_euclid(60) - i64::from(s)).rem_euclid(60);
            if off > 2 && off < 58 {
                self.report.relays += 1;
                return;
            }
        }
        let last = self.last.entry(p.mmsi).or_insert(i64::MIN);
        if t < last.saturating_add(self.every_ms) {
            return;
        }
        *last = t;
        let id = self.identity.get(&p.mmsi).cloned().unwrap_or_default();
        let opt = |v: Option<String>| v.unwrap_or_default();
        self.block.push(format!(
            "\"{}\";\"{t}\";\"{}\";\"{}\";\"{}\";\"{}\";\"{}\";\"{}\";\"{}\";\"{}\";\"{}\"\n",
            p.mmsi,
            comma(p.lat, 6),
            comma(p.lon, 6),
            opt(p.sog_knots.map(|s| format!("{:.0}", f64::from(s) * 10.0))),
            opt(p.cog_deg.map(|c| comma(f64::from(c), 1))),
            opt(p.heading_deg.map(|h| h.to_string())),
            opt(id.imo.map(|i| i.to_string())),
            id.name,
            id.ship_type.map(type_words).unwrap_or(""),
            opt(id.draught.map(|d| comma(f64::from(d), 1))),
        ));
        self.report.rows += 1;
        if self.block.len() >= BLOCK_ROWS {
            self.flush();
        }
    }
}

/// Writes the sampled export of the NMEA in `ais` to `out`: one position per vessel every
/// `minutes` minutes (the first of each interval), rows shuffled within blocks by `seed`.
pub fn sampled_export<R: BufRead, W: Write>(
    mut ais: R,
    minutes: u32,
    seed: u64,
    out: &mut W,
) -> Result<ExportReport, SimError> {
    let io = |what: &str, e: std::io::Error| SimError::Io(format!("{what}: {e}"));
    writeln!(out, "{HEADER}").map_err(|e| io("writing the export", e))?;
    let mut sampler = Sampler {
        every_ms: i64::from(minutes.max(1)) * 60_000,
        last: HashMap::new(),
        identity: HashMap::new(),
        block: Vec::with_capacity(BLOCK_ROWS),
        rng: Rng::new(seed, u64::MAX - 7),
        out,
        report: ExportReport::default(),
        error: None,
    };
    let mut decoder = Decoder::new(DecoderConfig::default());
    loop {
        let buf = ais.fill_buf().map_err(|e| io("reading the AIS", e))?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        decoder.push(buf, &mut sampler);
        ais.consume(n);
    }
    decoder.finish(&mut sampler);
    sampler.flush();
    if let Some(e) = sampler.error.take() {
        return Err(io("writing the export", e));
    }
    Ok(sampler.report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_keeps_one_row_per_vessel_per_interval_shuffled() {
        // Two vessels reporting every 10 s for an hour, with a static report first.
        let mut nmea = Vec::new();
        let stat = shadowfleet_decode::AisMessage {
            header: shadowfleet_decode::Header {
                msg_type: 5,
                repeat: 0,
                mmsi: 273_000_001,
            },
            body: shadowfleet_decode::Body::StaticAndVoyageData(
                shadowfleet_decode::messages::StaticAndVoyageData {
                    imo: 9_321_483,
                    shipname: shadowfleet_decode::AisText::from_str_lossy("ONE"),
                    shiptype: 80,
                    draught: 120,
                    ..Default::default()
                },
            ),
        };
        let at = |t: i64| shadowfleet_decode::EncodeOptions {
            received: Some(shadowfleet_model::Timestamp::from_unix_seconds(
                1_767_225_600 + t,
            )),
            station: Some("T-TEST"),
            ..Default::default()
        };
        shadowfleet_decode::encode_nmea(&stat, &at(0), &mut nmea);
        for k in 0..360 {
            for mmsi in [273_000_001, 273_000_002] {
                let pos = shadowfleet_decode::AisMessage {
                    header: shadowfleet_decode::Header {
                        msg_type: 1,
                        repeat: 0,
                        mmsi,
                    },
                    body: shadowfleet_decode::Body::PositionReport(
                        shadowfleet_decode::messages::PositionReport {
                            speed: 105,
                            lat: 36_000_000 + k,
                            lon: 18_000_000,
                            course: 900,
                            heading: 90,
                            second: (10 * k % 60) as u8,
                            ..Default::default()
                        },
                    ),
                };
                shadowfleet_decode::encode_nmea(&pos, &at(10 * i64::from(k)), &mut nmea);
            }
        }
        let mut out = Vec::new();
        let r = sampled_export(&nmea[..], 3, 1, &mut out).unwrap_or_default();
        assert_eq!((r.positions, r.rows, r.untimed, r.relays), (720, 40, 0, 0));
        let text = String::from_utf8(out).unwrap_or_default();
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert_eq!(rows.len(), 40);
        assert!(rows
            .iter()
            .any(|r| r.contains("\"9321483\";\"ONE\";\"Crude Oil Tanker\";\"12,0\"")));
        assert!(
            rows.iter().all(|r| r.contains("\"105\";\"90,0\";\"90\"")),
            "{rows:?}"
        );
        let times: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.split(';').nth(1)?.trim_matches('"').parse().ok())
            .collect();
        assert!(times.windows(2).any(|w| w[1] < w[0]), "shuffled");
    }
}
