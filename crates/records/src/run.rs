//! What a run of the pipeline left out, by reason: nothing is dropped unsaid.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Messages, lines and reports a run left out, by reason, as `shadowfleet analyze` prints
/// them, the store's run record keeps them and `POST /api/ingest` answers them. Every
/// counter is documented in `docs/cli.md`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct DropCounts {
    /// Lines that are neither AIS nor a header shadowfleet reads (GPS NMEA, junk).
    pub not_ais_lines: u64,
    /// AIS sentences the decoder rejected, by reason code (`bad_checksum`,
    /// `orphan_fragment`, `empty_payload`, ...; see `shadowfleet decode`).
    pub rejected_sentences: BTreeMap<String, u64>,
    /// CSV rows rejected (a field that does not parse), reported by line and column.
    pub csv_rows: u64,
    /// The same transmission heard by several receivers: kept once.
    pub duplicates: u64,
    /// Position reports without a receive time (no tag block `c:`, `$PGHP` header, trailing
    /// epoch or CSV time): they cannot be placed in time.
    pub untimed_positions: u64,
    /// Static reports without a receive time.
    pub untimed_statics: u64,
    /// Positions of base stations, aids to navigation and SAR aircraft: not vessels, not
    /// tracked.
    pub not_vessels: u64,
    /// Position reports with a position not available or out of range, or a receive time
    /// outside 1990–2106.
    pub invalid: u64,
    /// Position reports that arrived after the reorder window had closed on their time.
    pub late: u64,
    /// Position reports with a receive time far ahead of every other (a receiver's wrong
    /// clock).
    pub clock_errors: u64,
    /// Position reports heard again later through another station (identical content, the
    /// report's own UTC second at odds with the new receive time): kept out of tracks.
    pub stale_relays: u64,
}

impl DropCounts {
    /// Everything left out but duplicates (kept once) and the positions of stations that
    /// are not vessels (not lost: not tracked).
    pub fn lost(&self) -> u64 {
        self.not_ais_lines
            + self.rejected_sentences.values().sum::<u64>()
            + self.csv_rows
            + self.untimed_positions
            + self.untimed_statics
            + self.invalid
            + self.late
            + self.clock_errors
            + self.stale_relays
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &DropCounts) {
        self.not_ais_lines += other.not_ais_lines;
        for (k, v) in &other.rejected_sentences {
            *self.rejected_sentences.entry(k.clone()).or_default() += v;
        }
        self.csv_rows += other.csv_rows;
        self.duplicates += other.duplicates;
        self.untimed_positions += other.untimed_positions;
        self.untimed_statics += other.untimed_statics;
        self.not_vessels += other.not_vessels;
        self.invalid += other.invalid;
        self.late += other.late;
        self.clock_errors += other.clock_errors;
        self.stale_relays += other.stale_relays;
    }

    /// One line per non-zero counter: `N reason (what it means)`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |n: u64, what: &str| {
            if n > 0 {
                out.push(format!("{n} {what}"));
            }
        };
        push(
            self.not_ais_lines,
            "lines not AIS (GPS NMEA, junk, unused headers)",
        );
        for (k, v) in &self.rejected_sentences {
            push(*v, &format!("sentences rejected: {k}"));
        }
        push(
            self.csv_rows,
            "CSV rows rejected (a field that does not parse)",
        );
        push(
            self.untimed_positions,
            "position reports without a receive time",
        );
        push(
            self.untimed_statics,
            "static reports without a receive time",
        );
        push(
            self.not_vessels,
            "positions of base stations, aids to navigation and SAR aircraft (not vessels: not tracked)",
        );
        push(self.invalid, "position reports invalid (position not available or out of range, time outside 1990-2106)");
        push(
            self.late,
            "position reports late (after the reorder window closed on their time)",
        );
        push(
            self.clock_errors,
            "position reports from a receiver clock far ahead of the rest",
        );
        push(
            self.stale_relays,
            "position reports heard again late through another station (stale relays)",
        );
        out
    }
}
