//! Any AIS position CSV: the columns recognised from the header by their usual names
//! (case, spaces and punctuation ignored), the delimiter (`,`, `;` or tab) from the header
//! line, and names the recognition misses given by the user (`--columns mmsi=ShipId,...`).
//! Values are read as the column's role says — a time as ISO 8601, `YYYY-MM-DD HH:MM:SS`,
//! `dd/mm/yyyy HH:MM:SS`, `YYYYMMDD_HHMMSS` or epoch seconds or milliseconds (also written
//! in scientific notation), a speed in knots or in tenths of a knot, a ship type as its
//! ITU code or its name — and a value that does not read is an error naming its line and
//! column, never a guess.

use shadowfleet_model::Timestamp;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// MMSI.
    Mmsi,
    /// Receive (or report) time.
    Time,
    /// Latitude, degrees.
    Lat,
    /// Longitude, degrees.
    Lon,
    /// Speed over ground, knots.
    Sog,
    /// Speed over ground, tenths of a knot.
    SogTenths,
    /// Course over ground, degrees.
    Cog,
    /// True heading, degrees.
    Heading,
    /// IMO number.
    Imo,
    /// Vessel name.
    Name,
    /// Call sign.
    Callsign,
    /// Ship and cargo type, as an ITU code or a name.
    ShipType,
    /// Draught, metres.
    Draught,
    /// Navigational status, as a code or its words.
    NavStatus,
    /// Length, metres.
    Length,
    /// Beam, metres.
    Width,
    /// AIS class (`A`, `B`, `Class A`, ...).
    Class,
    /// Destination.
    Destination,
}

impl Role {
    /// Every role, in a fixed order.
    pub const ALL: [Role; 18] = [
        Role::Mmsi,
        Role::Time,
        Role::Lat,
        Role::Lon,
        Role::Sog,
        Role::SogTenths,
        Role::Cog,
        Role::Heading,
        Role::Imo,
        Role::Name,
        Role::Callsign,
        Role::ShipType,
        Role::Draught,
        Role::NavStatus,
        Role::Length,
        Role::Width,
        Role::Class,
        Role::Destination,
    ];

    /// The name `--columns` takes for it.
    pub fn key(self) -> &'static str {
        match self {
            Role::Mmsi => "mmsi",
            Role::Time => "time",
            Role::Lat => "lat",
            Role::Lon => "lon",
            Role::Sog => "sog",
            Role::SogTenths => "sog_tenths",
            Role::Cog => "cog",
            Role::Heading => "heading",
            Role::Imo => "imo",
            Role::Name => "name",
            Role::Callsign => "callsign",
            Role::ShipType => "ship_type",
            Role::Draught => "draught",
            Role::NavStatus => "status",
            Role::Length => "length",
            Role::Width => "width",
            Role::Class => "class",
            Role::Destination => "destination",
        }
    }

    /// The role `--columns` names `key`.
    pub fn parse(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Usual header names, normalised (lower case, letters and digits only).
    fn names(self) -> &'static [&'static str] {
        match self {
            Role::Mmsi => &["mmsi", "userid", "sourcemmsi", "mmsinumber", "mmsino"],
            Role::Time => &[
                "time",
                "timestamp",
                "basedatetime",
                "datetime",
                "ts",
                "epoch",
                "epochms",
                "epochmillis",
                "unixtime",
                "utc",
                "timeutc",
                "timestamputc",
                "datetimeutc",
                "receivedtime",
                "receivedat",
                "msgtime",
                "positiontime",
                "positiontimestamp",
            ],
            Role::Lat => &["lat", "latitude", "latdeg", "y"],
            Role::Lon => &["lon", "long", "longitude", "lng", "londeg", "x"],
            Role::Sog => &[
                "sog",
                "speed",
                "speedoverground",
                "sogknots",
                "speedkn",
                "speedknots",
                "sogkn",
            ],
            Role::SogTenths => &[
                "sog10",
                "speed10",
                "sogtenths",
                "speedtenths",
                "sogx10",
                "speedx10",
            ],
            Role::Cog => &["cog", "course", "courseoverground", "cogdeg"],
            Role::Heading => &["heading", "hdg", "trueheading", "headingdeg"],
            Role::Imo => &["imo", "imonumber", "imono"],
            Role::Name => &["name", "vesselname", "shipname", "vessel"],
            Role::Callsign => &["callsign", "cs", "radiocallsign"],
            Role::ShipType => &[
                "shiptype",
                "vesseltype",
                "type",
                "shiptypecode",
                "typeofship",
                "aistype",
            ],
            Role::Draught => &["draught", "draft", "draughtm", "draftm"],
            Role::NavStatus => &[
                "status",
                "navstatus",
                "navigationalstatus",
                "navigationstatus",
            ],
            Role::Length => &["length", "lengthm", "loa"],
            Role::Width => &["width", "beam", "widthm", "beamm"],
            Role::Class => &["transceiverclass", "class", "typeofmobile", "aisclass"],
            Role::Destination => &["destination", "dest"],
        }
    }
}

/// Lower case, letters and digits only: `# Timestamp` and `TIME_STAMP` read alike.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Which column (index) plays each role, and the delimiter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    /// `,`, `;` or tab.
    pub delimiter: u8,
    /// Column index per role (as [`Role::ALL`]).
    columns: [Option<usize>; Role::ALL.len()],
    /// The header as found.
    pub header: Vec<String>,
}

/// A header that does not give the columns a position report needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a CSV with the header {header:?} (delimiter {delimiter:?}): no column for {missing}; name it with --columns {hint}")]
pub struct MissingColumns {
    /// The header found.
    pub header: Vec<String>,
    /// The delimiter used.
    pub delimiter: char,
    /// The roles missing, as `--columns` keys.
    pub missing: String,
    /// An example of the flag.
    pub hint: String,
}

/// The delimiter of a header line: the most frequent of `,`, `;` and tab outside quotes.
pub fn delimiter_of(header: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in header.bytes() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| counts[i]).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

impl ColumnMap {
    /// The map of a header line, `overrides` (role, header name) first.
    pub fn from_header(
        line: &str,
        overrides: &[(Role, String)],
    ) -> Result<ColumnMap, MissingColumns> {
        let line = line
            .trim_start_matches('\u{feff}')
            .trim_end_matches(['\r', '\n']);
        let delimiter = delimiter_of(line);
        let header: Vec<String> = split_header(line, delimiter);
        let norm: Vec<String> = header.iter().map(|h| normalise(h)).collect();
        let mut columns = [None; Role::ALL.len()];
        for (role, name) in overrides {
            let n = normalise(name);
            if let Some(i) = norm.iter().position(|h| *h == n) {
                columns[role_index(*role)] = Some(i);
            }
        }
        for role in Role::ALL {
            if columns[role_index(role)].is_some() {
                continue;
            }
            let taken: Vec<usize> = columns.iter().flatten().copied().collect();
            let found = norm.iter().enumerate().find(|(i, h)| {
                !taken.contains(i)
                    && (role.names().contains(&h.as_str())
                        || (role == Role::SogTenths && (h.contains("tenth") || h.contains("01kn"))))
            });
            if let Some((i, _)) = found {
                columns[role_index(role)] = Some(i);
            }
        }
        // A speed in tenths named like a speed in knots: the tenths win only when named so.
        if columns[role_index(Role::SogTenths)].is_some()
            && columns[role_index(Role::Sog)] == columns[role_index(Role::SogTenths)]
        {
            columns[role_index(Role::Sog)] = None;
        }
        let map = ColumnMap {
            delimiter,
            columns,
            header,
        };
        let missing: Vec<&str> = [Role::Mmsi, Role::Time, Role::Lat, Role::Lon]
            .into_iter()
            .filter(|r| map.column(*r).is_none())
            .map(Role::key)
            .collect();
        if missing.is_empty() {
            Ok(map)
        } else {
            let hint = missing
                .iter()
                .map(|k| format!("{k}=HEADER"))
                .collect::<Vec<_>>()
                .join(",");
            Err(MissingColumns {
                header: map.header,
                delimiter: char::from(delimiter),
                missing: missing.join(", "),
                hint,
            })
        }
    }

    /// The column of `role`.
    pub fn column(&self, role: Role) -> Option<usize> {
        self.columns[role_index(role)]
    }

    /// The header name of the column of `role` (for errors).
    pub fn name(&self, role: Role) -> &str {
        self.column(role)
            .and_then(|i| self.header.get(i))
            .map_or(role.key(), String::as_str)
    }
}

fn role_index(r: Role) -> usize {
    r as usize
}

fn split_header(line: &str, delimiter: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            c if !quoted && c as u32 == u32::from(delimiter) => {
                out.push(std::mem::take(&mut cur).trim().to_owned());
            }
            c => cur.push(c),
        }
    }
    out.push(cur.trim().to_owned());
    out
}

/// Whether a header line looks like a position CSV this module can read (it names an
/// MMSI column and a latitude or longitude).
pub fn looks_like_positions_csv(line: &str) -> bool {
    let d = delimiter_of(line);
    let norm: Vec<String> = split_header(line, d).iter().map(|h| normalise(h)).collect();
    let has = |r: Role| norm.iter().any(|h| r.names().contains(&h.as_str()));
    has(Role::Mmsi) && (has(Role::Lat) || has(Role::Lon))
}

/// A time value: ISO 8601 / RFC 3339 (a space for the `T`, no zone meaning UTC),
/// `dd/mm/yyyy HH:MM:SS`, `YYYYMMDD_HHMMSS`, or epoch seconds or milliseconds (integer,
/// fractional or in scientific notation; a magnitude above 10^11 is milliseconds).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let b = s.as_bytes();
    // Epoch, possibly 1.7672256E12.
    let numeric = b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        && b.get(4) != Some(&b'-');
    if numeric {
        let v: f64 = s.parse().ok()?;
        if !v.is_finite() || v <= 0.0 {
            return None;
        }
        let ms = if v > 1e11 { v } else { v * 1000.0 };
        // Scientific notation (a spreadsheet's doing) keeps some digits only: a value whose
        // last digit is worth more than a second is not a time to the second, and is not
        // guessed at.
        if let Some(e) = s.find(['e', 'E']) {
            let (mantissa, exponent) = (&s[..e], &s[e + 1..]);
            let decimals = mantissa.split_once('.').map_or(0, |(_, f)| f.len()) as i32;
            let step = 10f64.powi(exponent.parse::<i32>().ok()? - decimals);
            let step_ms = if v > 1e11 { step } else { step * 1000.0 };
            if step_ms > 1000.0 {
                return None;
            }
        }
        return Some(Timestamp(ms.round() as i64));
    }
    // dd/mm/yyyy HH:MM:SS
    if b.len() >= 19 && b[2] == b'/' && b[5] == b'/' {
        let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
        return Timestamp::from_utc(
            i64::from(n(6..10)?),
            n(3..5)?,
            n(0..2)?,
            n(11..13)?,
            n(14..16)?,
            n(17..19)?,
            0,
        );
    }
    // YYYYMMDD_HHMMSS
    if b.len() == 15 && b[8] == b'_' {
        let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
        return Timestamp::from_utc(
            i64::from(n(0..4)?),
            n(4..6)?,
            n(6..8)?,
            n(9..11)?,
            n(11..13)?,
            n(13..15)?,
            0,
        );
    }
    Timestamp::parse_rfc3339(s).ok()
}

/// An ITU ship and cargo type code from a number or a name (the words of DMA and NOAA
/// exports and common portals: `Tanker`, `Oil tanker`, `Crude Oil Tanker`, `Tug`, ...).
pub fn ship_type(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(v) = s.parse::<f64>() {
        return (1.0..=99.0).contains(&v).then_some(v as u8);
    }
    let l = s.to_ascii_lowercase();
    let code = if l.contains("tanker") {
        80
    } else if l.contains("cargo") || l.contains("container") || l.contains("bulk") {
        70
    } else if l.contains("passenger") || l.contains("ferry") || l.contains("cruise") {
        60
    } else if l.contains("tug") || l.contains("towing") {
        52
    } else if l.contains("fishing") {
        30
    } else if l.contains("pilot") {
        50
    } else if l.contains("search and rescue") || l == "sar" {
        51
    } else if l.contains("dredg") {
        33
    } else if l.contains("military") || l.contains("naval") {
        35
    } else if l.contains("sailing") {
        36
    } else if l.contains("pleasure") || l.contains("yacht") {
        37
    } else if l.contains("high speed") || l == "hsc" {
        40
    } else if l.contains("law enforcement") {
        55
    } else {
        // "Other", "Unknown", empty, or words we do not know: no type.
        return None;
    };
    Some(code)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    #[test]
    fn headers_of_real_exports_are_recognised() {
        let m = ColumnMap::from_header(
            "\"MMSI\";\"TIMESTAMP\";\"LAT\";\"LONG\";\"SPEED\";\"COURSE\";\"SHIPTYPE\"",
            &[],
        )
        .unwrap();
        assert_eq!(m.delimiter, b';');
        assert_eq!(
            (
                m.column(Role::Mmsi),
                m.column(Role::Time),
                m.column(Role::Lat),
                m.column(Role::Lon)
            ),
            (Some(0), Some(1), Some(2), Some(3))
        );
        assert_eq!(
            (m.column(Role::Sog), m.column(Role::ShipType)),
            (Some(4), Some(6))
        );
        let dma = ColumnMap::from_header(
            "# Timestamp,Type of mobile,MMSI,Latitude,Longitude,Navigational status,ROT,SOG,COG",
            &[],
        )
        .unwrap();
        assert_eq!(
            (dma.column(Role::Time), dma.column(Role::Class)),
            (Some(0), Some(1))
        );
        let tabs = ColumnMap::from_header(
            "mmsi\tts_ms\tlatitude\tlongitude\tsog_tenths",
            &[(Role::Time, "ts_ms".into())],
        )
        .unwrap();
        assert_eq!(
            (
                tabs.delimiter,
                tabs.column(Role::Time),
                tabs.column(Role::SogTenths),
                tabs.column(Role::Sog)
            ),
            (b'\t', Some(1), Some(4), None)
        );
    }

    #[test]
    fn a_header_without_the_needed_columns_says_which_are_missing() {
        let e = ColumnMap::from_header("ship;when;y_pos;x_pos", &[]).unwrap_err();
        assert_eq!(e.missing, "mmsi, time, lat, lon");
        assert!(e.to_string().contains("--columns mmsi=HEADER"), "{e}");
        let ok = ColumnMap::from_header(
            "ship;when;y_pos;x_pos",
            &[
                (Role::Mmsi, "ship".into()),
                (Role::Time, "when".into()),
                (Role::Lat, "y_pos".into()),
                (Role::Lon, "X_POS".into()),
            ],
        )
        .unwrap();
        assert_eq!(ok.column(Role::Lon), Some(3));
    }

    #[test]
    fn times_in_every_usual_form() {
        let t = Timestamp::from_utc(2026, 1, 5, 12, 30, 15, 0).unwrap();
        for s in [
            "2026-01-05T12:30:15Z",
            "2026-01-05 12:30:15",
            "2026-01-05T13:30:15+01:00",
            "05/01/2026 12:30:15",
            "20260105_123015",
            "1767616215",
            "1767616215000",
            "1.767616215E12",
            "1767616215.0",
        ] {
            assert_eq!(parse_time(s), Some(t), "{s}");
        }
        for s in [
            "",
            "noon",
            "2026-13-05 12:30:15",
            "32/01/2026 12:30:15",
            "-5",
            // A spreadsheet's rounding: the last digit is worth 100 s.
            "1.7676162E12",
        ] {
            assert_eq!(parse_time(s), None, "{s}");
        }
    }

    #[test]
    fn ship_types_as_codes_or_words() {
        assert_eq!(ship_type("84"), Some(84));
        assert_eq!(ship_type("Crude Oil Tanker"), Some(80));
        assert_eq!(ship_type("Tug"), Some(52));
        assert_eq!(ship_type("Other"), None);
        assert_eq!(ship_type("0"), None);
    }
}
