//! The monitor's report as one self-contained HTML page (`ceasefire --format html`): weekly
//! tables per metric (places × weeks, low-coverage weeks marked), change points, regime
//! summaries, calls at occupied ports, spoofing clusters, and what the numbers can claim.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use crate::Report;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The metrics tabulated, in order.
const TABLES: [(&str, &str); 6] = [
    ("departures", "Departures per port"),
    ("port_calls", "Arrivals per port"),
    ("gate_transits", "Gate transits"),
    ("queue", "Vessels waiting"),
    (
        "dark_index",
        "Dark index (tanker gap-hours per vessel-day over the coverage baseline)",
    ),
    (
        "state_vessel_presence",
        "AIS-visible state vessels west of the line (vessel-hours, a lower bound)",
    ),
];

/// The page.
pub fn html(r: &Report) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Black Sea ceasefire monitor</title>\
         <style>body{{font:14px/1.4 system-ui,sans-serif;margin:1.5em;max-width:1200px}}\
         table{{border-collapse:collapse;margin:.5em 0 1.5em}}th,td{{border-bottom:1px solid #d0d7de;padding:2px 6px}}\
         td.n{{text-align:right;font-variant-numeric:tabular-nums}}td.low{{color:#8c959f}}.muted{{color:#57606a}}</style>\
         </head><body><h1>Black Sea maritime-ceasefire monitor</h1>\
         <p class=\"muted\">Registry {}; data {} to {}; {} positions read. Grey numbers: weeks with low AIS coverage at the place. \
         Darkness near Ukrainian ports is a safety practice, never evasion. Counts are lower bounds where AIS is off. \
         Method and limits: docs/ceasefire.md.</p>",
        esc(&r.registry),
        esc(&r.from),
        esc(&r.to),
        r.positions
    );
    let weeks: BTreeSet<&str> = r.rows.iter().map(|x| x.week.as_str()).collect();
    for (metric, title) in TABLES {
        // (place, split) → week → (value, low coverage)
        type Cells<'a> = BTreeMap<&'a str, (f64, bool)>;
        let mut t: BTreeMap<(String, String), Cells> = BTreeMap::new();
        for x in r.rows.iter().filter(|x| x.metric == metric) {
            let split_ok = x.split == "all"
                || x.split == "tanker"
                || (metric == "gate_transits" && !x.split.contains('/'))
                || x.split.ends_with("/dark");
            if !split_ok {
                continue;
            }
            t.entry((x.place.clone(), x.split.clone()))
                .or_default()
                .insert(x.week.as_str(), (x.value, x.confidence == "low"));
        }
        if t.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<h2>{}</h2><table><tr><th>place</th><th>split</th>",
            esc(title)
        );
        for w in &weeks {
            let _ = write!(h, "<th>{}</th>", esc(w));
        }
        h.push_str("</tr>");
        for ((place, split), row) in &t {
            let _ = write!(h, "<tr><td>{}</td><td>{}</td>", esc(place), esc(split));
            for w in &weeks {
                match row.get(w) {
                    Some((v, low)) => {
                        let _ = write!(
                            h,
                            "<td class=\"n{}\">{}</td>",
                            if *low { " low" } else { "" },
                            v
                        );
                    }
                    None => h.push_str("<td></td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Change points in daily departures</h2><table><tr><th>place</th><th>from</th><th>before / day</th><th>after / day</th><th>LLR</th><th>regimes</th></tr>");
    for c in &r.change_points {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&c.place),
            esc(&c.date),
            c.before_per_day,
            c.after_per_day,
            c.llr,
            esc(&c.regimes.join(" "))
        );
    }
    h.push_str("</table><h2>Per regime (weekly mean, 95 % interval)</h2><table><tr><th>regime</th><th>metric</th><th>place</th><th>weeks</th><th>mean</th><th>interval</th></tr>");
    for g in r
        .regimes
        .iter()
        .filter(|g| g.split == "all" && matches!(g.metric, "departures" | "port_calls"))
    {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{} – {}</td></tr>",
            esc(&g.regime),
            esc(g.metric),
            esc(&g.place),
            g.weeks,
            g.mean,
            g.low,
            g.high
        );
    }
    h.push_str("</table><h2>Calls at occupied ports</h2><table><tr><th>port</th><th>arrival</th><th>MMSI</th><th>IMO</th><th>name</th><th>flag</th><th>list status</th><th>dark approach (gap event)</th><th>event</th></tr>");
    for c in &r.occupied_calls {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&c.port),
            esc(&c.arrival),
            c.mmsi,
            c.imo.map(|i| i.to_string()).unwrap_or_default(),
            esc(&c.name),
            esc(c.flag.as_deref().unwrap_or("")),
            esc(&c.list_status),
            c.dark_approach.map(|i| i.to_string()).unwrap_or_default(),
            c.event.map(|i| i.to_string()).unwrap_or_default()
        );
    }
    h.push_str("</table><h2>Spoofing clusters (interference, not a ship's act)</h2><table><tr><th>event</th><th>centre</th><th>spread km</th><th>vessels</th><th>start</th><th>end</th></tr>");
    for c in &r.clusters {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{:.3}, {:.3}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
            c.event,
            c.lat,
            c.lon,
            c.radius_km,
            c.vessels,
            esc(&c.start),
            esc(&c.end)
        );
    }
    h.push_str("</table></body></html>\n");
    h
}
