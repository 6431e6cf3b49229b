//! ISO 8601 weeks (`2025-W14`): Monday to Sunday, in the year of their Thursday.

use shadowfleet_model::Timestamp;

const DAY: i64 = 86_400;

/// The Monday 00:00 UTC that begins the ISO week holding `t` (unix seconds).
pub fn week_start(t: i64) -> i64 {
    let day = t.div_euclid(DAY);
    // 1970-01-01 was a Thursday: Monday is three days before a day ≡ 0 (mod 7).
    let monday = day - (day + 3).rem_euclid(7);
    monday * DAY
}

/// The ISO week holding `t`, as `YYYY-Www`.
pub fn iso_week(t: i64) -> String {
    let thursday = week_start(t) + 3 * DAY;
    let (year, ..) = Timestamp::from_unix_seconds(thursday).to_utc();
    let jan1 = Timestamp::from_utc(year, 1, 1, 0, 0, 0, 0)
        .map(|t| t.unix_millis() / 1000)
        .unwrap_or(thursday);
    let week = (thursday - jan1) / DAY / 7 + 1;
    format!("{year}-W{week:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(y: i64, m: u32, d: u32) -> i64 {
        Timestamp::from_utc(y, m, d, 12, 0, 0, 0)
            .map(|t| t.unix_millis() / 1000)
            .unwrap_or_default()
    }

    #[test]
    fn iso_weeks_across_year_ends() {
        // Dates and weeks from ISO 8601's own examples and a calendar.
        assert_eq!(iso_week(t(2025, 3, 25)), "2025-W13");
        assert_eq!(iso_week(t(2025, 4, 2)), "2025-W14");
        assert_eq!(iso_week(t(2021, 1, 3)), "2020-W53");
        assert_eq!(iso_week(t(2024, 12, 30)), "2025-W01");
        assert_eq!(iso_week(t(2026, 1, 5)), "2026-W02");
        assert_eq!(iso_week(t(2022, 7, 22)), "2022-W29");
        assert_eq!(week_start(t(2026, 1, 8)), t(2026, 1, 5) - 12 * 3600);
    }
}
