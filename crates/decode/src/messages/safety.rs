//! Safety related text (types 12 and 14) and acknowledgements (types 7 and 13).

use super::layout::{read_text, write_text};
use crate::bits::Payload;
use crate::text::AisText;

/// Capacity of safety text: a five-slot type 14 carries (1008 − 40) / 6 = 161
/// characters.
pub const MAX_SAFETY_TEXT: usize = 162;

/// Addressed safety related message, type 12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AddressedSafety {
    /// Sequence number.
    pub seqno: u8,
    /// Destination MMSI.
    pub dest_mmsi: u32,
    /// Retransmit flag.
    pub retransmit: bool,
    /// The text.
    pub text: AisText<MAX_SAFETY_TEXT>,
}

/// Safety related broadcast message, type 14.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BroadcastSafety {
    /// The text.
    pub text: AisText<MAX_SAFETY_TEXT>,
}

/// Reads text from `start` to the end of the payload; says whether it was cut.
fn read_tail_text(p: &Payload, start: usize) -> (AisText<MAX_SAFETY_TEXT>, bool) {
    let count = p.len_bits().saturating_sub(start) / 6;
    (read_text(p, start, count), count > MAX_SAFETY_TEXT)
}

impl AddressedSafety {
    pub(crate) fn read(p: &Payload) -> (Self, bool) {
        let (text, cut) = read_tail_text(p, 72);
        let m = AddressedSafety {
            seqno: p.u(38, 2) as u8,
            dest_mmsi: p.u(40, 30) as u32,
            retransmit: p.u(70, 1) != 0,
            text,
        };
        (m, cut)
    }

    pub(crate) fn write(&self, w: &mut Payload) -> usize {
        w.set(38, 2, self.seqno as u64);
        w.set(40, 30, self.dest_mmsi as u64);
        w.set(70, 1, self.retransmit as u64);
        let n = self.text.as_str().len();
        write_text(&self.text, w, 72, n);
        72 + 6 * n
    }
}

impl BroadcastSafety {
    pub(crate) fn read(p: &Payload) -> (Self, bool) {
        let (text, cut) = read_tail_text(p, 40);
        (BroadcastSafety { text }, cut)
    }

    pub(crate) fn write(&self, w: &mut Payload) -> usize {
        let n = self.text.as_str().len();
        write_text(&self.text, w, 40, n);
        40 + 6 * n
    }
}

/// Binary (7) or safety (13) acknowledge: up to four acknowledged stations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Acknowledge {
    /// Acknowledged MMSIs; 0 where absent.
    pub mmsi: [u32; 4],
    /// Their sequence numbers.
    pub seqno: [u8; 4],
}

impl Acknowledge {
    pub(crate) fn read(p: &Payload) -> Self {
        let mut a = Acknowledge::default();
        for i in 0..4 {
            let start = 40 + 32 * i;
            if start < p.len_bits() {
                a.mmsi[i] = p.u(start, 30) as u32;
                a.seqno[i] = p.u(start + 30, 2) as u8;
            }
        }
        a
    }

    pub(crate) fn write(&self, w: &mut Payload) -> usize {
        let used = self.mmsi.iter().rposition(|&m| m != 0).map_or(1, |i| i + 1);
        for i in 0..used {
            w.set(40 + 32 * i, 30, self.mmsi[i] as u64);
            w.set(70 + 32 * i, 2, self.seqno[i] as u64);
        }
        40 + 32 * used
    }
}
