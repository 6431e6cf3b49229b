//! Oracle tests: our output against gpsd's and libais's expected decodes.
//!
//! `gpsdecode -u -c` on gpsd's `sample.aivdm` must match byte for byte. The
//! gpsd daemon logs (`daemon/*.chk`) and libais's `typeexamples.json` and
//! `tagblock.json` are compared field by field; every difference must be
//! listed in `testdata/known-divergences.tsv` with its reason, and every
//! listed divergence must still occur (so a fix forces the list to shrink).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use shadowfleet_decode::gpsd::{write_json, CsvWriter, JsonStyle, JsonWriter};
use shadowfleet_decode::{Decoded, DecoderConfig};

use crate::common::{decode_bytes, testdata};

#[test]
fn gpsdecode_csv_is_byte_identical_on_sample_aivdm() {
    let dir = testdata().join("ais-real/gpsd");
    let input = std::fs::read(dir.join("sample.aivdm")).unwrap();
    let expected = std::fs::read_to_string(dir.join("sample.aivdm.chk")).unwrap();
    let (out, _) = decode_bytes(&input, DecoderConfig::default());
    let mut w = CsvWriter::default();
    let mut got = String::new();
    for m in &out.messages {
        w.write(m, &mut got);
    }
    assert_eq!(expected.lines().count(), 97);
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        assert_eq!(g, e, "line {} of sample.aivdm.chk", i + 1);
    }
    assert_eq!(got, expected);
}

/// A difference, keyed as in the divergence file: corpus, message type, field.
type Key = (String, String, String);

#[derive(Default)]
struct Comparison {
    fields_compared: usize,
    fields_equal: usize,
    differences: BTreeMap<Key, Vec<String>>,
}

impl Comparison {
    fn differ(&mut self, corpus: &str, msg_type: &str, field: &str, example: String) {
        let e = self
            .differences
            .entry((corpus.to_string(), msg_type.to_string(), field.to_string()))
            .or_default();
        if e.len() < 3 {
            e.push(example);
        }
    }

    fn compare_objects(
        &mut self,
        corpus: &str,
        at: &str,
        expected: &Value,
        got: &Value,
        rename: &dyn Fn(&str) -> Option<&'static str>,
    ) {
        let t = expected
            .get("type")
            .map_or("?".to_string(), |v| v.to_string());
        let Some(exp) = expected.as_object() else {
            return;
        };
        for (k, ev) in exp {
            let key = rename(k).unwrap_or(k.as_str());
            if key.is_empty() {
                continue;
            }
            self.fields_compared += 1;
            match got.get(key) {
                Some(gv) if values_match(ev, gv) => self.fields_equal += 1,
                Some(gv) => self.differ(corpus, &t, k, format!("{at}: expected {ev}, got {gv}")),
                None => self.differ(corpus, &t, k, format!("{at}: expected {ev}, missing")),
            }
        }
    }
}

fn values_match(e: &Value, g: &Value) -> bool {
    match (e, g) {
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            // libais prints float32 values: compare at their precision.
            (a - b).abs() <= 1e-4 * a.abs().max(1.0)
        }
        // libais writes some flags as 0/1.
        (Value::Bool(a), Value::Number(b)) | (Value::Number(b), Value::Bool(a)) => {
            b.as_f64() == Some(*a as u8 as f64)
        }
        (Value::String(a), Value::Number(b)) | (Value::Number(b), Value::String(a)) => a
            .parse::<f64>()
            .ok()
            .zip(b.as_f64())
            .is_some_and(|(x, y)| x == y),
        _ => e == g,
    }
}

fn gpsd_json(d: &Decoded, w: &mut JsonWriter) -> Option<Value> {
    let mut s = String::new();
    w.write(d, &mut s)
        .then(|| serde_json::from_str(&s).unwrap())
}

fn scaled_json(d: &Decoded) -> Value {
    let mut s = String::new();
    write_json(d, JsonStyle::Scaled, None, &mut s);
    serde_json::from_str(&s).unwrap()
}

fn no_rename(_: &str) -> Option<&'static str> {
    None
}

/// gpsd daemon regression logs: each input line is echoed, then the JSON
/// reports gpsd made for it. We feed the same lines and compare the AIS
/// reports made right after each VDM line. gpsd re-reports a message after
/// later non-AIS lines (its daemon merges reports); those echoes are skipped.
fn compare_gpsd_daemon(cmp: &mut Comparison) {
    let dir = testdata().join("ais-real/gpsd/daemon");
    let mut logs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    logs.sort();
    for chk in logs
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "chk"))
    {
        let corpus = format!("gpsd-daemon/{}", chk.file_name().unwrap().to_string_lossy());
        let text = std::fs::read_to_string(chk).unwrap();
        let mut input = String::new();
        let mut expected: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
        let mut line_no = 0usize;
        let mut last_is_vdm = false;
        for l in text.lines() {
            if l.starts_with('{') {
                let v: Value = serde_json::from_str(l).unwrap();
                if last_is_vdm && v.get("class").and_then(Value::as_str) == Some("AIS") {
                    expected.entry(line_no).or_default().push(v);
                }
            } else {
                line_no += 1;
                input.push_str(l);
                input.push('\n');
                last_is_vdm = l.contains("VDM") || l.contains("VDO");
            }
        }
        let (out, _) = decode_bytes(input.as_bytes(), DecoderConfig::default());
        let mut w = JsonWriter::default();
        let mut got: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
        for m in &out.messages {
            if let Some(v) = gpsd_json(m, &mut w) {
                got.entry(m.meta.line as usize).or_default().push(v);
            }
        }
        let lines: BTreeSet<usize> = expected.keys().chain(got.keys()).copied().collect();
        for line in lines {
            let e = expected.get(&line).map_or(&[][..], |v| v.as_slice());
            let g = got.get(&line).map_or(&[][..], |v| v.as_slice());
            for i in 0..e.len().max(g.len()) {
                match (e.get(i), g.get(i)) {
                    (Some(ev), Some(gv)) => {
                        cmp.compare_objects(&corpus, &format!("line {line}"), ev, gv, &no_rename)
                    }
                    (Some(ev), None) => {
                        let t = ev.get("type").map_or("?".into(), |v| v.to_string());
                        cmp.differ(
                            &corpus,
                            &t,
                            "(message)",
                            format!("line {line}: gpsd reported, we did not"),
                        );
                    }
                    (None, Some(gv)) => {
                        let t = gv.get("type").map_or("?".into(), |v| v.to_string());
                        cmp.differ(
                            &corpus,
                            &t,
                            "(message)",
                            format!("line {line}: we reported, gpsd did not"),
                        );
                    }
                    (None, None) => {}
                }
            }
        }
    }
}

/// libais `typeexamples.json`: one scaled decode per line of the `.nmea`.
fn compare_libais_typeexamples(cmp: &mut Comparison) {
    let dir = testdata().join("ais-real/libais");
    let nmea = std::fs::read(dir.join("typeexamples.nmea")).unwrap();
    let expected = std::fs::read_to_string(dir.join("typeexamples.json")).unwrap();
    let (out, _) = decode_bytes(&nmea, DecoderConfig::default());
    for (i, e) in expected.lines().enumerate() {
        let ev: Value = serde_json::from_str(e).unwrap();
        let line = (i + 1) as u64;
        match out.messages.iter().find(|m| m.meta.line == line) {
            Some(m) => cmp.compare_objects(
                "libais/typeexamples",
                &format!("line {line}"),
                &ev,
                &scaled_json(m),
                &no_rename,
            ),
            None => {
                let t = ev.get("type").map_or("?".into(), |v| v.to_string());
                cmp.differ(
                    "libais/typeexamples",
                    &t,
                    "(message)",
                    format!("line {line}: not decoded"),
                );
            }
        }
    }
}

/// libais `tagblock.json`: tag block fields under libais's names.
fn compare_libais_tagblock(cmp: &mut Comparison) {
    let dir = testdata().join("ais-real/libais");
    let nmea = std::fs::read(dir.join("tagblock.nmea")).unwrap();
    let expected = std::fs::read_to_string(dir.join("tagblock.json")).unwrap();
    let (out, _) = decode_bytes(&nmea, DecoderConfig::default());
    assert_eq!(out.messages.len(), expected.lines().count());
    fn rename(k: &str) -> Option<&'static str> {
        match k {
            "tagblock_station" => Some("station"),
            "tagblock_timestamp" | "timestamp" => Some("received"),
            _ => None,
        }
    }
    for (i, (e, m)) in expected.lines().zip(&out.messages).enumerate() {
        let ev: Value = serde_json::from_str(e).unwrap();
        let mut got = scaled_json(m);
        // libais writes receive times with microseconds: compare as instants.
        if let Some(t) = got.get("received").and_then(Value::as_str) {
            let t = t.trim_end_matches('Z').to_string() + ".000000Z";
            got["received"] = Value::String(t);
        }
        cmp.compare_objects(
            "libais/tagblock",
            &format!("message {}", i + 1),
            &ev,
            &got,
            &rename,
        );
    }
}

fn known_divergences() -> BTreeMap<Key, String> {
    let text = std::fs::read_to_string(testdata().join("known-divergences.tsv")).unwrap();
    let mut map = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(
            f.len(),
            4,
            "known-divergences.tsv line {}: want corpus, type, field, reason",
            n + 1
        );
        assert!(
            !f[3].trim().is_empty(),
            "known-divergences.tsv line {}: a reason is required",
            n + 1
        );
        map.insert((f[0].into(), f[1].into(), f[2].into()), f[3].into());
    }
    map
}

#[test]
fn field_by_field_oracles_match_except_known_divergences() {
    let mut cmp = Comparison::default();
    compare_gpsd_daemon(&mut cmp);
    compare_libais_typeexamples(&mut cmp);
    compare_libais_tagblock(&mut cmp);
    assert!(
        cmp.fields_compared > 20_000,
        "only {} fields compared: did the oracles run?",
        cmp.fields_compared
    );
    let known = known_divergences();
    let unexpected: Vec<_> = cmp
        .differences
        .iter()
        .filter(|(k, _)| !known.contains_key(*k))
        .collect();
    let fixed: Vec<_> = known
        .keys()
        .filter(|k| !cmp.differences.contains_key(*k))
        .collect();
    let mut report = String::new();
    for ((c, t, f), ex) in &unexpected {
        report.push_str(&format!(
            "{c}\t{t}\t{f}\t<reason>   e.g. {}\n",
            ex.join(" | ")
        ));
    }
    assert!(
        unexpected.is_empty(),
        "{} unexplained differences (add to testdata/known-divergences.tsv with a reason, or fix):\n{report}",
        unexpected.len()
    );
    assert!(
        fixed.is_empty(),
        "listed divergences no longer occur (remove them): {fixed:?}"
    );
    eprintln!(
        "oracles: {} fields compared, {} equal, {} known divergence kinds",
        cmp.fields_compared,
        cmp.fields_equal,
        known.len()
    );
}
