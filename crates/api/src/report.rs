//! The exposure report as one self-contained HTML page: no script, no external resource.

use std::collections::BTreeMap;
use std::fmt::Write;

use shadowfleet_risk::ExposureRow;

use shadowfleet_run::analysis::Analysis;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn mbbl(x: f64) -> String {
    format!("{:.2}", x / 1e6)
}

const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

/// Country-by-month stacked bars, largest country first.
fn chart(rows: &[ExposureRow]) -> String {
    let mut by_country: BTreeMap<&str, BTreeMap<&str, f64>> = BTreeMap::new();
    let mut months: Vec<&str> = Vec::new();
    for r in rows {
        *by_country
            .entry(&r.country)
            .or_default()
            .entry(&r.month)
            .or_default() += r.volume_bbl;
        if !months.contains(&r.month.as_str()) {
            months.push(&r.month);
        }
    }
    months.sort_unstable();
    let mut countries: Vec<(&str, f64)> = by_country
        .iter()
        .map(|(c, m)| (*c, m.values().sum()))
        .collect();
    countries.sort_by(|a, b| b.1.total_cmp(&a.1));
    let max = countries.first().map_or(1.0, |c| c.1.max(1.0));
    let (bar_h, left, width) = (22.0, 60.0, 640.0);
    let height = countries.len() as f64 * (bar_h + 6.0) + 40.0;
    let mut s = format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\" aria-label=\"barrels by destination country and month\">", left + width + 120.0);
    for (i, (c, total)) in countries.iter().enumerate() {
        let y = i as f64 * (bar_h + 6.0) + 4.0;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
            left - 8.0,
            y + 16.0,
            esc(c)
        );
        let mut x = left;
        for (mi, m) in months.iter().enumerate() {
            let v = by_country
                .get(c)
                .and_then(|x| x.get(m))
                .copied()
                .unwrap_or(0.0);
            let w = v / max * width;
            if w > 0.0 {
                let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bar_h}\" fill=\"{}\"><title>{} {}: {} Mbbl</title></rect>", COLOURS[mi % COLOURS.len()], esc(c), m, mbbl(v));
            }
            x += w;
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{}\" font-size=\"12\">{} Mbbl</text>",
            x + 6.0,
            y + 16.0,
            mbbl(*total)
        );
    }
    let y = countries.len() as f64 * (bar_h + 6.0) + 20.0;
    for (mi, m) in months.iter().enumerate() {
        let x = left + mi as f64 * 90.0;
        let _ = write!(s, "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{m}</text>", COLOURS[mi % COLOURS.len()], x + 16.0, y + 11.0);
    }
    s.push_str("</svg>");
    s
}

/// The report.
pub fn html(a: &Analysis, rows: &[ExposureRow], from: Option<&str>, to: Option<&str>) -> String {
    let origins = a.config.exposure.origins.join(", ");
    let total: f64 = rows.iter().map(|r| r.volume_bbl).sum();
    let tonnes: f64 = rows.iter().map(|r| r.volume_t).sum();
    let value: f64 = rows.iter().map(|r| r.value_usd).sum();
    let low: f64 = rows.iter().map(|r| r.low_bbl).sum();
    let high: f64 = rows.iter().map(|r| r.high_bbl).sum();
    let cargoes: u32 = rows.iter().map(|r| r.cargoes).sum();
    let sts: f64 = rows.iter().map(|r| r.volume_bbl * r.via_sts_share).sum();
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>shadowfleet: exposure to {origins} oil</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222}}table{{border-collapse:collapse;margin:1em 0}}\
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right;font-size:14px}}th{{background:#f3f3f3}}td.l,th.l{{text-align:left}}.small{{color:#555;font-size:13px}}</style></head><body>\
<h1>Who bought {origins} oil</h1><p class=\"small\">Months {} to {}, by month of discharge. Oil of origin {origins} as traced by shadowfleet from AIS: loading at a terminal, ship-to-ship hand-offs, discharge in a port.</p>",
        from.unwrap_or("(first)"),
        to.unwrap_or("(last)")
    );
    let _ = write!(
        s,
        "<h2>Summary</h2><table><tr><th class=\"l\">cargoes (or parts)</th><td>{cargoes}</td></tr><tr><th class=\"l\">barrels</th><td>{} M (interval {} – {} M)</td></tr>\
<tr><th class=\"l\">tonnes</th><td>{} M</td></tr><tr><th class=\"l\">through STS</th><td>{:.0} %</td></tr><tr><th class=\"l\">value</th><td>USD {:.0} M</td></tr></table>",
        mbbl(total),
        mbbl(low),
        mbbl(high),
        mbbl(tonnes),
        if total > 0.0 { sts / total * 100.0 } else { 0.0 },
        value / 1e6
    );
    let _ = write!(s, "<h2>By country and month</h2>{}", chart(rows));
    s.push_str("<table><tr><th class=\"l\">country</th><th class=\"l\">month</th><th>cargoes</th><th>Mbbl</th><th>kt</th><th>low Mbbl</th><th>high Mbbl</th><th>via STS</th><th>shadow</th><th>USD M</th></tr>");
    for r in rows {
        let _ = write!(
            s,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{:.0} %</td><td>{:.0} %</td><td>{:.1}</td></tr>",
            esc(&r.country),
            r.month,
            r.cargoes,
            mbbl(r.volume_bbl),
            r.volume_t / 1e3,
            mbbl(r.low_bbl),
            mbbl(r.high_bbl),
            r.via_sts_share * 100.0,
            r.shadow_share * 100.0,
            r.value_usd / 1e6
        );
    }
    s.push_str("</table><h2>Highest-risk tankers</h2><table><tr><th class=\"l\">vessel</th><th class=\"l\">names</th><th>score</th><th class=\"l\">main evidence (event ids)</th></tr>");
    for r in a.risks.iter().take(15) {
        let ev: Vec<String> = r
            .indicators
            .iter()
            .take(3)
            .map(|i| {
                let ids: Vec<String> = i.events.iter().take(5).map(i64::to_string).collect();
                format!(
                    "<b>{}</b>: {}{}",
                    i.name,
                    esc(&i.detail),
                    if ids.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", ids.join(", "))
                    }
                )
            })
            .collect();
        let _ = write!(
            s,
            "<tr><td class=\"l\">{}</td><td class=\"l\">{}</td><td>{:.0}</td><td class=\"l\">{}</td></tr>",
            r.vessel,
            esc(&r.names.join(" / ")),
            r.score,
            ev.join("<br>")
        );
    }
    let _ = writeln!(
        s,
        "</table><h2>Method</h2><ul class=\"small\">\
<li>A cargo starts where a tanker's AIS draught rises at a terminal (Russian terminals from operators, NGA World Port Index and UN/LOCODE); Kazakh CPC Blend loaded at CPC counts as Kazakh{}.</li>\
<li>It follows ship-to-ship transfers confirmed by both ships' draughts, and \"dark\" transfers: a tanker whose draught rose while loitering in an STS area, matched to a laden tanker that was dark near there at the time and could have sailed there and back in its gap.</li>\
<li>It ends where a ship's draught falls in a port; the country is the port's.</li>\
<li>Volume: deadweight (from the particulars loaded, else the size class of the AIS length) × fill factor {:.2} × the draught change relative to the class's ballast-to-laden range, in barrels at UN factors (crude 7.32 bbl/t). The interval adds the volume model's uncertainty, leaves unconfirmed links and inferred origins out of the low end, and adds every cargo of unknown origin to the high end.</li>\
<li>Cargoes first seen laden (loaded before the data starts, or while dark) take the origin of the ship's other cargoes when they agree, else the origin {} when the ship's risk score is at least {:.0}; these count in the estimate but not in the low end.</li>\
<li>Risk scores combine named indicators (lists, dark periods, STS, spoofing, identity changes, flags, age, Russian-only trade) as independent evidence; a vessel counts as shadow from a score of {:.0}.</li></ul>\
<h2>Limits</h2><ul class=\"small\"><li>AIS draughts are typed in by crews and can be wrong or stale; a ship that never updates its draught hides its loads.</li>\
<li>Only what AIS shows: transfers by two dark ships, and cargo moved by pipeline or rail, are not seen.</li>\
<li>Port-level attribution: a discharge in a port is attributed to the port's country, not to the refinery's owner or the final buyer.</li>\
<li>Event times are those of the AIS messages received; cargoes that span the start or the end of the data are partly inferred or still at sea.</li></ul></body></html>",
        if a.config.voyages.cpc_is_kazakh { "" } else { " — except here: the report counts it as Russian on request" },
        a.config.voyages.volume.fill_factor,
        esc(&a.config.risk.origin),
        a.config.risk.infer_origin_threshold,
        a.config.risk.shadow_threshold
    );
    s
}
