//! Aid-to-navigation report, type 21, with its name extension.

use super::layout::{layout, read_text, write_text};
use crate::bits::Payload;
use crate::text::AisText;

/// Longest AtoN name: 20 characters plus a 14-character extension.
pub const MAX_ATON_NAME: usize = 34;

layout! {
    /// The fixed fields of an aid-to-navigation report.
    pub struct AidToNavigationFields {
        /// Type of aid (ITU-R M.1371 Table 74).
        aid_type: u8 = (38, 5),
        /// Position accuracy.
        accuracy: bool = (163, 1),
        /// Longitude in 1/10 000 minute.
        lon: i32 = (164, 28),
        /// Latitude in 1/10 000 minute.
        lat: i32 = (192, 27),
        /// Dimension to bow, metres.
        to_bow: u16 = (219, 9),
        /// Dimension to stern.
        to_stern: u16 = (228, 9),
        /// Dimension to port.
        to_port: u8 = (237, 6),
        /// Dimension to starboard.
        to_starboard: u8 = (243, 6),
        /// Position fix type.
        epfd: u8 = (249, 4),
        /// UTC second.
        second: u8 = (253, 6),
        /// Off position.
        off_position: bool = (259, 1),
        /// Regional reserved.
        regional: u8 = (260, 8),
        /// RAIM flag.
        raim: bool = (268, 1),
        /// Virtual aid.
        virtual_aid: bool = (269, 1),
        /// Assigned mode.
        assigned: bool = (270, 1),
    }
}

/// Aid-to-navigation report, type 21.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AidToNavigation {
    /// Fixed fields.
    pub fields: AidToNavigationFields,
    /// Name with its extension.
    pub name: AisText<MAX_ATON_NAME>,
}

impl AidToNavigation {
    pub(crate) fn read(p: &Payload) -> Self {
        let fields = AidToNavigationFields::read(p);
        // gpsd's rule: the extension counts only when the first 20 characters
        // are all used (no '@'); then both are joined and trimmed together.
        let mut name: AisText<MAX_ATON_NAME> = AisText::default();
        let mut full = true;
        for i in 0..20 {
            let c = crate::text::SIXBIT_ALPHABET[p.u(43 + 6 * i, 6) as usize];
            if c == b'@' {
                full = false;
                break;
            }
            name.push(c);
        }
        if full && p.len_bits() > 272 {
            let ext: AisText<14> = read_text(p, 272, (p.len_bits() - 272) / 6);
            for c in ext.as_str().bytes() {
                name.push(c);
            }
        }
        name.trim_end();
        AidToNavigation { fields, name }
    }

    pub(crate) fn write(&self, w: &mut Payload) -> usize {
        self.fields.write(w);
        let s = self.name.as_str();
        let head: AisText<20> = AisText::from_str_lossy(&s[..s.len().min(20)]);
        write_text(&head, w, 43, 20);
        if s.len() > 20 {
            // Pad the head with spaces so that the extension is read back.
            for i in head.as_str().len()..20 {
                w.set(43 + 6 * i, 6, 32);
            }
            let ext: AisText<14> = AisText::from_str_lossy(&s[20..]);
            let n = ext.as_str().len();
            write_text(&ext, w, 272, n);
            // The extension fills whole bytes with zero padding (ITU-R M.1371).
            let end = 272 + 6 * n;
            return end.div_ceil(8) * 8;
        }
        272
    }
}
