//! Whether an AIS destination names a port of call: LOCODE-aware (`RU NVS`, `RUNVS`,
//! `RUNVS>TRIST`), with the port's name and the aliases in its name's brackets
//! (`Chornomorsk (Illichivsk)`), `FOR ORDERS` and blank told apart.

/// What a destination says about one port of call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Declared {
    /// It names the port (its LOCODE, its location code under another country's prefix, or
    /// its name) or the port's country.
    Named,
    /// It names another place.
    OtherPlace,
    /// Blank.
    Blank,
    /// `FOR ORDERS` (and the like: `ORDERS`, `TBA`).
    ForOrders,
}

impl Declared {
    /// The split of the `destination_honesty` rows.
    pub fn as_str(self) -> &'static str {
        match self {
            Declared::Named => "named",
            Declared::OtherPlace => "other_place",
            Declared::Blank => "blank",
            Declared::ForOrders => "for_orders",
        }
    }
}

/// The port a destination is compared with.
#[derive(Debug, Clone, Copy)]
pub struct PortOfCall<'a> {
    /// UN/LOCODE without the space (`UAODS`), empty when unknown.
    pub locode: &'a str,
    /// ISO 3166 alpha-2.
    pub country: &'a str,
    /// Name, aliases in brackets.
    pub name: &'a str,
}

/// Classifies the destination `text` a crew set for a call at `port`.
pub fn classify(text: &str, port: &PortOfCall<'_>) -> Declared {
    let upper = text.trim().to_ascii_uppercase();
    if !upper.bytes().any(|b| b.is_ascii_alphanumeric()) {
        return Declared::Blank;
    }
    if upper.contains("ORDER") || matches!(upper.as_str(), "TBA" | "TBN" | "N/A" | "NA") {
        return Declared::ForOrders;
    }
    // `FROM>TO` (also `=>`, `->`): the destination is what follows the last arrow.
    let to = upper
        .rsplit('>')
        .map(|s| s.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let compact: String = to.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    if let Some((country, location)) = locode(&compact) {
        let own = port.locode.to_ascii_uppercase();
        let named = own.len() == 5 && (own == compact || own[2..] == *location)
            || country.eq_ignore_ascii_case(port.country);
        return if named {
            Declared::Named
        } else {
            Declared::OtherPlace
        };
    }
    if compact.eq_ignore_ascii_case(port.country) {
        return Declared::Named;
    }
    // Free text: a word of the destination begins with the first four letters of a word of
    // the port's name (ODESSA for Odesa, ILLICHEVSK for Chornomorsk (Illichivsk)).
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() >= 4)
            .map(str::to_ascii_uppercase)
            .collect()
    };
    let said = words(to);
    let named = words(port.name)
        .iter()
        .filter(|w| w.as_str() != "OCCUPIED" && w.as_str() != "PORT")
        .any(|w| said.iter().any(|s| s.starts_with(&w[..4])));
    if named {
        Declared::Named
    } else {
        Declared::OtherPlace
    }
}

/// `(country, location)` when `s` has the shape of a UN/LOCODE (two letters, three letters
/// or digits 2–9).
fn locode(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    (b.len() == 5
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || (b'2'..=b'9').contains(c)))
    .then(|| (&s[..2], &s[2..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ODESA: PortOfCall<'static> = PortOfCall {
        locode: "UAODS",
        country: "UA",
        name: "Odesa",
    };
    const CHORNOMORSK: PortOfCall<'static> = PortOfCall {
        locode: "UAILK",
        country: "UA",
        name: "Chornomorsk (Illichivsk)",
    };
    const SEVASTOPOL: PortOfCall<'static> = PortOfCall {
        locode: "UASVP",
        country: "UA",
        name: "Sevastopol (occupied Crimea)",
    };

    #[test]
    fn locodes_with_and_without_a_space_and_arrows() {
        assert_eq!(classify("UA ODS", &ODESA), Declared::Named);
        assert_eq!(classify("uaods", &ODESA), Declared::Named);
        assert_eq!(classify("TRIST>UAODS", &ODESA), Declared::Named);
        assert_eq!(classify("UAODS > TR IST", &ODESA), Declared::OtherPlace);
        assert_eq!(classify("RUNVS>TRIST", &ODESA), Declared::OtherPlace);
        assert_eq!(classify("UA YZE", &ODESA), Declared::Named, "the country");
        assert_eq!(classify("RU KVK", &SEVASTOPOL), Declared::OtherPlace);
        assert_eq!(
            classify("RU SVP", &SEVASTOPOL),
            Declared::Named,
            "the port under another country's prefix"
        );
    }

    #[test]
    fn names_and_aliases() {
        assert_eq!(classify("ODESSA", &ODESA), Declared::Named);
        assert_eq!(classify("ILLICHEVSK", &CHORNOMORSK), Declared::Named);
        assert_eq!(classify("CHORNOMORSK ANCH", &CHORNOMORSK), Declared::Named);
        assert_eq!(classify("SEVASTOPOL", &SEVASTOPOL), Declared::Named);
        assert_eq!(classify("ISTANBUL", &ODESA), Declared::OtherPlace);
        assert_eq!(classify("UA", &ODESA), Declared::Named);
    }

    #[test]
    fn blank_and_for_orders() {
        assert_eq!(classify("", &ODESA), Declared::Blank);
        assert_eq!(classify("  @@ ", &ODESA), Declared::Blank);
        assert_eq!(classify("FOR ORDERS", &ODESA), Declared::ForOrders);
        assert_eq!(classify("FOR ORDER", &ODESA), Declared::ForOrders);
        assert_eq!(classify("TBA", &ODESA), Declared::ForOrders);
    }
}
