//! `shadowfleet watch` end to end: a loopback TCP feed with an outage, alert rules, the
//! NDJSON file and a webhook receiver; and `kill -9` at random points of a followed file.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use super::{bin, scratch};

/// A simulated `baltic` world (5 days, seed 5) in `dir`: the AIS file.
fn world(dir: &Path) -> PathBuf {
    let out = bin()
        .args(["simulate", "--days", "5", "--seed", "5", "-q", "--out"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("ais.nmea")
}

/// `ais` analysed into the store `store` by `analyze`: its events.
fn analyzed(store: &Path, ais: &Path) -> Vec<serde_json::Value> {
    let st = bin()
        .args(["analyze", "-q", "--store"])
        .arg(store)
        .arg(ais)
        .status()
        .unwrap();
    assert!(st.success());
    events(store)
}

/// The events of a store, as JSON objects.
fn events(store: &Path) -> Vec<serde_json::Value> {
    let out = bin()
        .args(["events", "--min-confidence", "low", "--store"])
        .arg(store)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// An event without its store id, as canonical text.
fn canonical(e: &serde_json::Value) -> String {
    let mut e = e.clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("id");
    }
    e.to_string()
}

fn unix(rfc3339: &str) -> i64 {
    shadowfleet_model::Timestamp::parse_rfc3339(rfc3339)
        .unwrap()
        .unix_millis()
        / 1000
}

/// Sends SIGTERM and waits (a clean stop: the last checkpoint is written).
fn terminate(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("watch did not stop on SIGTERM");
}

/// A webhook receiver: answers 500 to the first request (to make the sender retry), 200 to
/// the others; hands back each (alert id, signature valid).
fn webhook_receiver(secret: &'static str) -> (String, std::sync::mpsc::Receiver<(String, bool)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut first = true;
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut reader = std::io::BufReader::new(s.try_clone().unwrap());
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let n: usize = headers["content-length"].parse().unwrap();
            let mut body = vec![0; n];
            reader.read_exact(&mut body).unwrap();
            if first {
                first = false;
                let _ = s.write_all(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                continue;
            }
            let sig = shadowfleet_alerts::sinks::signature(secret, &body);
            let ok = headers.get("x-shadowfleet-signature") == Some(&sig);
            let id = headers
                .get("x-shadowfleet-alert-id")
                .cloned()
                .unwrap_or_default();
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = tx.send((id, ok));
        }
    });
    (url, rx)
}

/// The first event of a server-sent event stream (its lines up to the blank line).
fn sse_first_event(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got);
        if let Some((_, body)) = text.split_once("\r\n\r\n") {
            if body.contains("\n\n") && body.contains("data:") {
                return body.to_owned();
            }
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// GET `path` from the server at `addr`, as JSON.
fn http_json(addr: &str, path: &str) -> serde_json::Value {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        // Chunked: the size lines between the chunks go.
        let mut out = String::new();
        let mut rest = body;
        while let Some((size, tail)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                break;
            }
            out.push_str(&tail[..n]);
            rest = &tail[n + 2..];
        }
        out
    } else {
        body.to_owned()
    };
    serde_json::from_str(&body).unwrap()
}

#[test]
fn watch_alerts_once_over_tcp_and_a_webhook_and_a_feed_outage_is_not_dark() {
    let dir = scratch("watch-tcp");
    let ais = world(&dir);
    // The feed: the first three quarters, a 16-hour outage (those lines never arrive; gaps need 12 h), the rest on a
    // second connection.
    let text = std::fs::read_to_string(&ais).unwrap();
    let times: Vec<i64> = text
        .lines()
        .filter_map(shadowfleet_testkit::tag_time)
        .collect();
    let (t0, t1) = (times[0], times[times.len() - 1]);
    let cut = t0 + (t1 - t0) * 3 / 4;
    let resume = cut + 16 * 3600;
    let (mut first, mut second) = (String::new(), String::new());
    let mut t = t0;
    for line in text.lines() {
        t = shadowfleet_testkit::tag_time(line).unwrap_or(t);
        let part = if t < cut {
            &mut first
        } else if t >= resume {
            &mut second
        } else {
            continue;
        };
        part.push_str(line);
        part.push('\n');
    }
    // What one analysis finds: a tanker calling at a Russian terminal, and an encounter, both
    // over well before the outage.
    let found = analyzed(&dir.join("whole"), &ais);
    let before_cut = |e: &&serde_json::Value| unix(e["end"].as_str().unwrap()) < cut - 6 * 3600;
    let call = found
        .iter()
        .filter(before_cut)
        .find(|e| {
            e["kind"] == "port_call"
                && e["details"]["place"]["country"] == "RU"
                && e["details"]["place"]["kind"] == "terminal"
        })
        .expect("a Russian terminal call");
    let meet = found
        .iter()
        .filter(before_cut)
        .find(|e| e["kind"] == "encounter")
        .expect("an encounter");
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        format!(
            r#"
[[rule]]
name = "watched tanker at a Russian terminal"
when = "port_call"
place_kind = "terminal"
vessels.mmsi = [{}]

[[rule]]
name = "watched tanker meets another"
when = "encounter"
vessels.mmsi = [{}]

[[rule]]
name = "dark 4 h"
when = "gap"
min_hours = 4
"#,
            call["mmsi"], meet["mmsi"]
        ),
    )
    .unwrap();

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let feed = format!("tcp://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        for part in [first, second] {
            let (mut s, _) = listener.accept().unwrap();
            s.write_all(part.as_bytes()).unwrap();
        }
    });
    let secret = "a-shared-secret";
    let (url, hooks) = webhook_receiver(secret);
    let store = dir.join("live");
    let alerts = dir.join("alerts.ndjson");
    let listen = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut child = bin()
        .args([
            "watch",
            "-q",
            "--checkpoint-every",
            "0.5",
            "--idle-flush",
            "2",
        ])
        .args(["--serve", "--listen", &listen])
        .args(["--rules"])
        .arg(&rules)
        .args(["--alerts"])
        .arg(&alerts)
        .args(["--webhook", &url, "--webhook-secret", secret, "--store"])
        .arg(&store)
        .arg(&feed)
        .spawn()
        .unwrap();
    server.join().unwrap();
    // Let it read the rest and flush idle events, then stop it cleanly.
    std::thread::sleep(Duration::from_secs(5));
    // Served while watching: the live layer, the feed's health with its outage, the alerts.
    let live = http_json(&listen, "/api/live");
    assert_eq!(live["live"], true, "{live}");
    assert!(
        live["features"].as_array().unwrap().len() > 100,
        "{}",
        live["features"].as_array().unwrap().len()
    );
    let feeds = http_json(&listen, "/api/feeds");
    assert_eq!(feeds[0]["name"], feed);
    assert!(
        !feeds[0]["outages"].as_array().unwrap().is_empty(),
        "{feeds}"
    );
    let served = http_json(&listen, "/api/alerts?limit=1000");
    assert!(!served.as_array().unwrap().is_empty(), "{served}");
    // The alert stream starts with the alerts so far; the live stream with the positions.
    let first = sse_first_event(&listen, "/api/alerts/stream");
    assert!(
        first.contains("event: alert") && first.contains("\"seq\":1"),
        "{first}"
    );
    let first = sse_first_event(&listen, "/api/live/stream");
    assert!(
        first.contains("event: positions") && first.contains("FeatureCollection"),
        "{}",
        &first[..first.len().min(300)]
    );
    terminate(&mut child);
    assert!(child.wait().unwrap().success());

    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "an alert written twice: {ids:?}");
    for field in [
        "rule",
        "kind",
        "event_id",
        "mmsi",
        "imo",
        "name",
        "time",
        "lat",
        "lon",
        "confidence",
    ] {
        assert!(
            lines.iter().all(|a| a.get(field).is_some()),
            "{field} missing"
        );
    }
    let rule_of = |r: &str| lines.iter().filter(|a| a["rule"] == r).count();
    assert!(
        rule_of("watched tanker at a Russian terminal") >= 1,
        "{ids:?}"
    );
    assert!(rule_of("watched tanker meets another") >= 1, "{ids:?}");
    assert!(lines
        .iter()
        .any(|a| a["mmsi"] == call["mmsi"] && a["kind"] == "port_call"));

    // The webhook got each alert once (after the retry of the first), signed.
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while got.len() < unique.len() && Instant::now() < deadline {
        if let Ok((id, ok)) = hooks.recv_timeout(Duration::from_millis(200)) {
            assert!(ok, "bad signature on {id}");
            *got.entry(id).or_default() += 1;
        }
    }
    while let Ok((id, _)) = hooks.recv_timeout(Duration::from_millis(500)) {
        *got.entry(id).or_default() += 1;
    }
    assert_eq!(
        got.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        unique,
        "the webhook's alerts"
    );
    assert!(got.values().all(|&n| n == 1), "{got:?}");

    // Silences across the feed's outage are the feed's, not the ships': marked, low
    // confidence, and no alert.
    let live = events(&store);
    let over_outage: Vec<&serde_json::Value> = live
        .iter()
        .filter(|e| e["kind"] == "gap")
        .filter(|e| {
            unix(e["start"].as_str().unwrap()) < resume && unix(e["end"].as_str().unwrap()) > cut
        })
        .collect();
    assert!(!over_outage.is_empty(), "the outage should leave gaps");
    for g in &over_outage {
        assert!(g["details"]["feed_outage"].is_string(), "{g}");
        assert_eq!(g["confidence"]["level"], "low", "{g}");
        assert_eq!(g["details"]["likely_dark"], false, "{g}");
    }
    let excused: BTreeSet<i64> = over_outage
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    assert!(
        lines
            .iter()
            .filter(|a| a["kind"] == "gap")
            .all(|a| !excused.contains(&a["event_id"].as_i64().unwrap())),
        "a dark alert for a silence of the feed"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_killed_at_random_points_resumes_with_no_event_lost_or_doubled() {
    let dir = scratch("watch-kill");
    let ais = world(&dir);
    let want: BTreeSet<String> = analyzed(&dir.join("whole"), &ais)
        .iter()
        .map(canonical)
        .collect();
    let rules = dir.join("rules.toml");
    std::fs::write(&rules, "[[rule]]\nname = \"calls\"\nwhen = \"port_call\"\n").unwrap();
    let store = dir.join("live");
    let alerts = dir.join("alerts.ndjson");
    let watch = |extra: &[&str]| {
        bin()
            .args(["watch", "-q", "--checkpoint-every", "0.2", "--store"])
            .arg(&store)
            .arg("--rules")
            .arg(&rules)
            .arg("--alerts")
            .arg(&alerts)
            .args(extra)
            .arg(&ais)
            .spawn()
            .unwrap()
    };
    let mut rng = shadowfleet_testkit::Xorshift::new(0xdead_beef);
    for _ in 0..20 {
        let mut child = watch(&[]);
        std::thread::sleep(Duration::from_millis(150 + rng.below(1500) as u64));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    let mut child = watch(&["--exit-at-end"]);
    assert!(child.wait().unwrap().success());
    let got: Vec<String> = events(&store).iter().map(canonical).collect();
    let got_set: BTreeSet<String> = got.iter().cloned().collect();
    assert_eq!(got.len(), got_set.len(), "an event stored twice");
    let lost: Vec<&String> = want.difference(&got_set).take(3).collect();
    let extra: Vec<&String> = got_set.difference(&want).take(3).collect();
    assert!(
        lost.is_empty() && extra.is_empty(),
        "lost {lost:?}\nextra {extra:?}"
    );
    // Each port call raised its alert once.
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let keys: Vec<(String, String)> = lines
        .iter()
        .map(|a| (a["mmsi"].to_string(), a["time"].to_string()))
        .collect();
    let unique: BTreeSet<&(String, String)> = keys.iter().collect();
    assert_eq!(keys.len(), unique.len(), "an alert delivered twice");
    // Each final port call (not one still open at the end) raised its alert once.
    let db = rusqlite::Connection::open(store.join("shadowfleet.sqlite")).unwrap();
    let calls: usize = db
        .query_row(
            "SELECT count(*) FROM events WHERE kind = 'port_call' AND provisional = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(calls > 10, "{calls} final port calls");
    assert_eq!(lines.len(), calls, "alerts against final port calls");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_newer_list_raises_list_match_alerts_for_matches_that_appeared_or_went() {
    let dir = scratch("watch-lists");
    let ais = world(&dir);
    let store = dir.join("store");
    analyzed(&store, &ais);
    let rules = dir.join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"listed\"\nwhen = \"list_match\"\n",
    )
    .unwrap();
    let alerts = dir.join("alerts.ndjson");
    let screen = |list: &Path| {
        let out = bin()
            .args(["screen", "--format", "csv", "--store"])
            .arg(&store)
            .arg("--lists")
            .arg(format!("eu-csv:{}", list.display()))
            .arg("--rules")
            .arg(&rules)
            .arg("--alerts")
            .arg(&alerts)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    // The first screening is the baseline.
    let full = dir.join("sanctions_eu.csv");
    let (first, note) = screen(&full);
    assert!(note.contains("baseline"), "{note}");
    assert!(!alerts.exists() || std::fs::read_to_string(&alerts).unwrap().is_empty());
    // A newer list without one of the matched entries: that match disappears.
    let text = std::fs::read_to_string(&full).unwrap();
    // CSV: score, mmsi, imo, name, list, list_kind, entry, entry_name, entry_imo, ...
    let matched_imo = first
        .lines()
        .skip(1)
        .find_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            f.get(8)
                .filter(|imo| !imo.is_empty())
                .map(|s| s.to_string())
        })
        .expect("a match with an IMO number");
    let newer = dir.join("newer").join("sanctions_eu.csv");
    std::fs::create_dir_all(newer.parent().unwrap()).unwrap();
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains(&matched_imo)).collect();
    assert!(
        kept.len() < text.lines().count(),
        "{matched_imo:?} not in the list:\n{first}"
    );
    std::fs::write(&newer, kept.join("\n") + "\n").unwrap();
    let (_, note) = screen(&newer);
    assert!(note.contains("list_match alerts raised"), "{note}");
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|a| a["kind"] == "list_match"));
    // Only that match went: the entries after it moved up a line, which is no change.
    let ids: Vec<&str> = lines
        .iter()
        .map(|a| a["alert_id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.is_empty()
            && ids
                .iter()
                .all(|id| id.ends_with(&format!("IMO {matched_imo}:disappeared"))),
        "{ids:?}"
    );
    // Screening the same list again raises nothing new.
    let before = lines.len();
    screen(&newer);
    let after = std::fs::read_to_string(&alerts).unwrap().lines().count();
    assert_eq!(after, before);
    let _ = std::fs::remove_dir_all(&dir);
}
