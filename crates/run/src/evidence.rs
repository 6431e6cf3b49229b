//! Evidence packs: one self-contained zip per finding (or per vessel) that a hostile reader
//! can check without the store: the exact raw input lines behind it (bytes as received, with
//! the input's SHA-256 and each line's byte offset), their decoded values, the track around
//! it (GeoJSON and a rendered SVG map), the event(s), the detector configuration the run used
//! (and its hash), list matches with their listing dates and state at the time, the identity
//! timeline and hull, Copernicus Browser links for satellite imagery, the sources' licences,
//! and a plain-language summary. [`Pack::verify`] re-decodes the lines, re-runs every
//! detector with the pack's configuration and checks that the same events come out.
//!
//! The members and their formats are documented in `docs/formats.md` ("Evidence packs").

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{BufRead, Read, Seek, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use shadowfleet_decode::gpsd::{write_json, JsonStyle};
use shadowfleet_decode::{Body, Decoded, Decoder, DecoderConfig};
use shadowfleet_events::{DetectorConfig, PipelineOutput};
use shadowfleet_ingest::{open_reader, Source};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{Event, EventKind};
use shadowfleet_risk::ListingState;
use shadowfleet_store::{PositionQuery, RunRecord, Store, StoredEvent};

use crate::analysis::Analysis;
use crate::ingest::{content_hash, hex, pipeline, run_file, IngestOptions};

/// The `format` of a pack's manifest.
pub const PACK_FORMAT: &str = "shadowfleet-evidence";
/// The version of the pack layout.
pub const PACK_VERSION: u64 = 1;

/// The statement every pack carries.
pub const NOT_A_DETERMINATION: &str = "This is an analytical finding from AIS data, not a legal determination. AIS can be switched off, spoofed or lost at reception; each finding states how sure it is and why, and should be weighed with other evidence (satellite imagery, port records, documents).";

/// Event fields that must come out of the raw lines unchanged for a finding to be reproduced.
const CORE_FIELDS: [&str; 7] = ["kind", "mmsi", "other_mmsi", "start", "end", "lat", "lon"];

/// Lines kept behind the current one to find a multi-sentence message's earlier fragments
/// and the `$PGHP` header before it.
const LOOKBACK: usize = 16;

/// What a pack is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One stored event, by id.
    Event(i64),
    /// Every event of these MMSIs (one vessel's hull), in the latest run that found any.
    Vessel(Vec<u32>),
}

/// How to build a pack.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// Raw lines are taken from this long before each event's start and after its end.
    pub margin_s: i64,
    /// Directories where the run's inputs may be found by file name (besides the path the
    /// run recorded).
    pub input_dirs: Vec<PathBuf>,
    /// Wall-clock time the pack is made, unix seconds.
    pub created_at: i64,
}

impl Default for PackOptions {
    fn default() -> Self {
        PackOptions {
            margin_s: 12 * 3600,
            input_dirs: Vec::new(),
            created_at: 0,
        }
    }
}

/// An evidence pack: named members (file name → bytes), `manifest.json` among them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pack {
    members: BTreeMap<String, Vec<u8>>,
}

/// One raw line as received, and where it was in its input (offsets in the decompressed
/// stream for gzip and zstd inputs).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawLine {
    offset: u64,
    bytes: Vec<u8>,
}

/// What [`Pack::verify`] found.
#[derive(Debug, Clone, Default)]
pub struct Verification {
    /// What was checked and held.
    pub passed: Vec<String>,
    /// What differs: empty when the pack verifies.
    pub problems: Vec<String>,
}

impl Verification {
    /// Whether nothing differs.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn rfc3339(t: i64) -> String {
    Timestamp::from_unix_seconds(t).to_string()
}

impl Pack {
    /// The member of that name.
    pub fn member(&self, name: &str) -> Option<&[u8]> {
        self.members.get(name).map(Vec::as_slice)
    }

    /// Member names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.members.keys().map(String::as_str)
    }

    /// Replaces (or adds) a member. The manifest's hashes are not updated: see [`Pack::reseal`].
    pub fn set_member(&mut self, name: &str, bytes: Vec<u8>) {
        self.members.insert(name.to_owned(), bytes);
    }

    /// The manifest.
    pub fn manifest(&self) -> anyhow::Result<Value> {
        let bytes = self
            .member("manifest.json")
            .context("the pack has no manifest.json")?;
        serde_json::from_slice(bytes).context("manifest.json is not valid JSON")
    }

    /// Rewrites the manifest's member hashes from the members as they are (what a forger
    /// would do; [`Pack::verify`] must still catch a change that alters the finding).
    pub fn reseal(&mut self) -> anyhow::Result<()> {
        let mut manifest = self.manifest()?;
        manifest["members"] = self.member_hashes();
        self.members.insert(
            "manifest.json".into(),
            serde_json::to_vec_pretty(&manifest)?,
        );
        Ok(())
    }

    fn member_hashes(&self) -> Value {
        Value::Object(
            self.members
                .iter()
                .filter(|(n, _)| *n != "manifest.json")
                .map(|(n, b)| (n.clone(), Value::String(sha256(b))))
                .collect(),
        )
    }

    /// Writes the pack as a zip (deflated members, fixed member times so the same pack gives
    /// the same bytes).
    pub fn write_zip<W: Write + Seek>(&self, out: W) -> anyhow::Result<W> {
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default());
        for (name, bytes) in &self.members {
            zip.start_file(name.as_str(), options)
                .with_context(|| format!("writing {name} into the pack"))?;
            zip.write_all(bytes)?;
        }
        zip.finish().context("finishing the pack")
    }

    /// The pack as zip bytes.
    pub fn to_zip_bytes(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .write_zip(std::io::Cursor::new(Vec::new()))?
            .into_inner())
    }

    /// Reads a pack from a zip.
    pub fn read_zip<R: Read + Seek>(input: R) -> anyhow::Result<Pack> {
        let mut zip = zip::ZipArchive::new(input).context("not a zip archive")?;
        let mut members = BTreeMap::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).context("reading the archive")?;
            if f.is_dir() {
                continue;
            }
            let name = f
                .name()
                .map(|n| n.into_owned())
                .context("a member's name is not valid")?;
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)
                .with_context(|| format!("reading {name} from the archive"))?;
            members.insert(name, bytes);
        }
        Ok(Pack { members })
    }

    /// Reads a pack file.
    pub fn open(path: &Path) -> anyhow::Result<Pack> {
        let f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
        Pack::read_zip(std::io::BufReader::new(f)).with_context(|| format!("{}", path.display()))
    }

    /// Builds the pack for `target` from the store, its analysis (for list matches, identities
    /// and hulls) and the run's inputs, found where the run read them or in
    /// `options.input_dirs`; each input is read only after its SHA-256 matches the manifest's.
    pub fn build(
        store: &Store,
        analysis: &Analysis,
        target: &Target,
        options: &PackOptions,
    ) -> anyhow::Result<Pack> {
        let (events, run, left_out) = select(store, target)?;
        let record = store
            .run_record(run)?
            .with_context(|| format!("run {run} is not in the store"))?;
        let Some(config) = crate::config::recorded_detector_config(&record)? else {
            bail!(
                "run {run} was recorded by a version that did not keep its detector configuration (store schema 4 or older): analyse its inputs again into a new store to make evidence packs"
            );
        };
        let decoder = config.decoder_config();
        let mut dirs = options.input_dirs.clone();
        // Bodies posted to `POST /api/ingest` are kept in the store.
        dirs.push(store.dir().join("incoming"));
        // Each input is hashed while its lines are read (the first window's).
        let first_windows = windows(&events, options.margin_s);
        let located = locate_inputs(&record, &dirs, &|path: &Path, name: &str| {
            extract(path, name, &first_windows, &decoder)
        })?;
        let paths: Vec<PathBuf> = located.iter().map(|(p, _)| p.clone()).collect();
        let mut first: Option<Vec<Vec<RawLine>>> =
            Some(located.into_iter().map(|(_, lines)| lines).collect());

        // Widen the window once when the events do not come out of the lines of the first.
        let mut margin = options.margin_s;
        let (raw, outcome) = loop {
            let raw = match first.take() {
                Some(raw) => raw,
                None => {
                    let windows = windows(&events, margin);
                    let mut raw = Vec::new();
                    for (input, path) in record.inputs.iter().zip(&paths) {
                        raw.push(extract(path, &input.name, &windows, &decoder)?);
                    }
                    raw
                }
            };
            let replayed = replay(&raw_files(&raw), &config)?;
            let outcome: Vec<Reproduction> = events
                .iter()
                .map(|e| reproduce(&e.event, &replayed))
                .collect();
            if outcome.iter().all(|o| o.core_ok) || margin >= options.margin_s * 4 {
                break (raw, outcome);
            }
            margin *= 4;
        };

        let mut pack = Pack::default();
        let mut inputs_json = Vec::new();
        for (k, (input, lines)) in record.inputs.iter().zip(&raw).enumerate() {
            let file = format!("raw/{}.nmea", k + 1);
            let index = format!("raw/{}.index.csv", k + 1);
            let mut body = Vec::new();
            let mut idx = String::from("line,input_offset,length,sha256\n");
            for (n, l) in lines.iter().enumerate() {
                body.extend_from_slice(&l.bytes);
                let _ = writeln!(
                    idx,
                    "{},{},{},{}",
                    n + 1,
                    l.offset,
                    l.bytes.len(),
                    sha256(&l.bytes)
                );
            }
            inputs_json.push(json!({
                "name": input.name,
                "sha256": input.content_hash,
                "bytes": input.bytes,
                "raw": file,
                "index": index,
                "lines": lines.len(),
            }));
            pack.set_member(&file, body);
            pack.set_member(&index, idx.into_bytes());
        }
        pack.set_member("decoded.ndjson", decoded(&pack, raw.len(), &decoder));
        pack.set_member("config.toml", record.detector_config.clone().into_bytes());

        let events_json: Vec<Value> = events
            .iter()
            .map(|e| json!({"id": e.id, "run": run, "event": e.event}))
            .collect();
        pack.set_member("events.json", serde_json::to_vec_pretty(&events_json)?);

        let mmsis: BTreeSet<u32> = events.iter().flat_map(|e| vessels_of(&e.event)).collect();
        let vessels = vessels_json(analysis, &mmsis, &events);
        pack.set_member("vessels.json", serde_json::to_vec_pretty(&vessels)?);

        let track = track_geojson(store, &events, options.margin_s)?;
        pack.set_member("map.svg", render_svg(&track, &events).into_bytes());
        pack.set_member("track.geojson", serde_json::to_vec_pretty(&track)?);

        let imagery: Vec<Value> = events.iter().filter_map(imagery_links).collect();
        pack.set_member("imagery.json", serde_json::to_vec_pretty(&imagery)?);
        pack.set_member("LICENSES.txt", licences().into_bytes());

        let reproduction: Vec<Value> = events
            .iter()
            .zip(&outcome)
            .map(|(e, o)| {
                json!({
                    "id": e.id,
                    "status": o.status(),
                    "differences": o.core_diffs,
                    "context_fields": o.context,
                })
            })
            .collect();
        pack.set_member(
            "README.txt",
            summary(&events, &vessels, &outcome, &imagery, &left_out, &record).into_bytes(),
        );
        let manifest = json!({
            "format": PACK_FORMAT,
            "format_version": PACK_VERSION,
            "program_version": env!("CARGO_PKG_VERSION"),
            "created_at": rfc3339(options.created_at),
            "run": {"id": run, "started_at": record.started_at, "program_version": record.program_version},
            "events": events.iter().map(|e| e.id).collect::<Vec<_>>(),
            "left_out": left_out,
            "margin_s": margin,
            "detector_config_sha256": sha256(record.detector_config.as_bytes()),
            "detector_config": serde_json::to_value(&config)?,
            "inputs": inputs_json,
            "reproduction": reproduction,
            "statement": NOT_A_DETERMINATION,
            "members": pack.member_hashes(),
        });
        pack.set_member("manifest.json", serde_json::to_vec_pretty(&manifest)?);
        Ok(pack)
    }

    /// Checks the pack: every member against the manifest's hash, every raw line against its
    /// index (and, for each of `inputs` whose SHA-256 is one the pack names, against the bytes
    /// at its offset there), the configuration against the one the pack was built with, and,
    /// re-decoding the raw lines and re-running every detector with `config.toml`, that each
    /// event of `events.json` comes out with the same fields (those the manifest marks as
    /// resting on data outside the pack must come out as the manifest recorded them).
    pub fn verify(&self, inputs: &[PathBuf]) -> anyhow::Result<Verification> {
        let mut v = Verification::default();
        let manifest = self.manifest()?;
        if manifest["format"] != PACK_FORMAT {
            bail!(
                "manifest.json: format is {}, not {PACK_FORMAT}",
                manifest["format"]
            );
        }
        // 1. Members against their hashes.
        let hashes = manifest["members"].as_object().cloned().unwrap_or_default();
        for (name, bytes) in &self.members {
            if name == "manifest.json" {
                continue;
            }
            match hashes.get(name).and_then(Value::as_str) {
                Some(h) if h == sha256(bytes) => {}
                Some(_) => v
                    .problems
                    .push(format!("{name}: changed since the pack was made (its SHA-256 differs from the manifest's)")),
                None => v
                    .problems
                    .push(format!("{name}: not in the manifest (added after the pack was made)")),
            }
        }
        for name in hashes.keys() {
            if !self.members.contains_key(name) {
                v.problems.push(format!("{name}: missing from the pack"));
            }
        }
        if v.problems.is_empty() {
            v.passed.push(format!(
                "{} members match the manifest's hashes",
                hashes.len()
            ));
        }

        // 2. Raw lines against their index and, where given, the original inputs.
        let pack_inputs = manifest["inputs"].as_array().cloned().unwrap_or_default();
        let mut originals: HashMap<String, PathBuf> = HashMap::new();
        for p in inputs {
            let (h, _) = content_hash(p)?;
            originals.insert(h, p.clone());
        }
        let mut raw: Vec<(String, Vec<u8>)> = Vec::new();
        for input in &pack_inputs {
            let file = input["raw"].as_str().unwrap_or_default();
            let index = input["index"].as_str().unwrap_or_default();
            let body = self
                .member(file)
                .with_context(|| format!("the pack has no {file}"))?;
            let lines = split_lines(body);
            let index_text = String::from_utf8_lossy(self.member(index).unwrap_or_default());
            let mut recorded = Vec::new();
            for (n, row) in index_text.lines().skip(1).enumerate() {
                let f: Vec<&str> = row.split(',').collect();
                let parsed = (f.len() == 4)
                    .then(|| Some((f[1].parse::<u64>().ok()?, f[2].parse::<usize>().ok()?, f[3])))
                    .flatten();
                let Some(p) = parsed else {
                    v.problems.push(format!(
                        "{index} line {}: not `line,input_offset,length,sha256`",
                        n + 2
                    ));
                    continue;
                };
                recorded.push(p);
            }
            if recorded.len() != lines.len() {
                v.problems.push(format!(
                    "{file}: {} lines, its index lists {}",
                    lines.len(),
                    recorded.len()
                ));
            }
            let mut bad = 0;
            for (n, (line, (offset, len, h))) in lines.iter().zip(&recorded).enumerate() {
                if line.len() != *len || sha256(line) != *h {
                    bad += 1;
                    if bad <= 5 {
                        v.problems.push(format!(
                            "{file} line {} (input offset {offset}): differs from the line the index records",
                            n + 1
                        ));
                    }
                }
            }
            if bad > 5 {
                v.problems.push(format!(
                    "{file}: {} more lines differ from the index",
                    bad - 5
                ));
            }
            let hash = input["sha256"].as_str().unwrap_or_default();
            if let Some(path) = originals.get(hash) {
                let differ = compare_with_input(path, &recorded, &lines)?;
                if differ.is_empty() {
                    v.passed.push(format!(
                        "{file}: all {} lines are the bytes at their offsets in {} (SHA-256 {hash})",
                        lines.len(),
                        path.display()
                    ));
                } else {
                    v.problems
                        .extend(differ.into_iter().map(|d| format!("{file}: {d}")));
                }
            }
            raw.push((file.to_owned(), body.to_vec()));
        }

        // 3. The configuration.
        let text =
            String::from_utf8_lossy(self.member("config.toml").unwrap_or_default()).into_owned();
        let config: DetectorConfig =
            toml::from_str(&text).context("config.toml is not a valid detector configuration")?;
        if manifest["detector_config_sha256"].as_str() != Some(sha256(text.as_bytes()).as_str()) {
            v.problems
                .push("config.toml: differs from the configuration the pack was made with".into());
        }
        let mut changed = Vec::new();
        diff_values(
            "",
            &manifest["detector_config"],
            &serde_json::to_value(&config)?,
            &mut changed,
        );
        for (path, was, now) in changed {
            v.problems.push(format!(
                "config.toml: threshold {path} is {now}, the pack was made with {was}"
            ));
        }

        // 4. Re-run the detectors on the raw lines.
        let replayed = replay(&raw, &config)?;
        let events: Vec<Value> =
            serde_json::from_slice(self.member("events.json").unwrap_or_default())
                .context("events.json is not valid JSON")?;
        let reproduction = manifest["reproduction"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for e in &events {
            let id = e["id"].as_i64().unwrap_or_default();
            let event: Event = serde_json::from_value(e["event"].clone())
                .with_context(|| format!("events.json: event {id}"))?;
            let context: BTreeMap<String, Value> = reproduction
                .iter()
                .find(|r| r["id"].as_i64() == Some(id))
                .and_then(|r| r["context_fields"].as_object())
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v["replayed"].clone()))
                        .collect()
                })
                .unwrap_or_default();
            let r = reproduce(&event, &replayed);
            let mut bad: Vec<String> = r.core_diffs.clone();
            for (path, replayed_value) in &r.context {
                let now = &replayed_value["replayed"];
                match context.get(path) {
                    Some(recorded) if values_equal(recorded, now) => {}
                    Some(recorded) => bad.push(format!(
                        "{path}: the raw lines give {now}, the pack recorded {recorded}"
                    )),
                    None => bad.push(format!(
                        "{path}: events.json says {}, the raw lines give {now}",
                        replayed_value["stored"]
                    )),
                }
            }
            if r.found && bad.is_empty() {
                v.passed.push(format!(
                    "event {id} ({}) comes out of the raw lines with the pack's configuration",
                    event.kind()
                ));
            } else if !r.found {
                v.problems.push(format!(
                    "event {id} ({} of MMSI {} from {}): does not come out of the raw lines with the pack's configuration{}",
                    event.kind(),
                    event.mmsi,
                    rfc3339(event.start),
                    if bad.is_empty() { String::new() } else { format!(" ({})", bad.join("; ")) }
                ));
            } else {
                v.problems.push(format!(
                    "event {id} ({}): differs from what the raw lines give: {}",
                    event.kind(),
                    bad.join("; ")
                ));
            }
        }
        Ok(v)
    }
}

/// The events a target names, the run they come from, and what was left out (other runs).
fn select(store: &Store, target: &Target) -> anyhow::Result<(Vec<StoredEvent>, i64, Value)> {
    match target {
        Target::Event(id) => {
            let (e, run) = store
                .event(*id)?
                .with_context(|| format!("no event {id} in the store"))?;
            Ok((vec![e], run, json!({})))
        }
        Target::Vessel(mmsis) => {
            let mut by_run: BTreeMap<i64, Vec<StoredEvent>> = BTreeMap::new();
            for m in mmsis {
                let filter = shadowfleet_store::EventFilter {
                    mmsi: Some(*m),
                    ..Default::default()
                };
                for e in store.events(&filter)? {
                    if let Some(run) = store.run_of_event(e.id)? {
                        let list = by_run.entry(run).or_default();
                        if !list.iter().any(|x| x.id == e.id) {
                            list.push(e);
                        }
                    }
                }
            }
            let Some((&run, _)) = by_run.iter().next_back() else {
                bail!(
                    "no event of MMSI {} in the store",
                    mmsis
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            };
            let others: usize = by_run
                .iter()
                .filter(|(r, _)| **r != run)
                .map(|(_, v)| v.len())
                .sum();
            let mut events = by_run.remove(&run).unwrap_or_default();
            events.sort_by_key(|e| (e.event.start, e.id));
            let left = if others > 0 {
                json!({"events_of_earlier_runs": others, "why": "a pack holds the events of one run (one configuration, one set of inputs): make one per run with --event"})
            } else {
                json!({})
            };
            Ok((events, run, left))
        }
    }
}

/// The path of each of the run's inputs: as recorded, or by file name in one of `dirs`,
/// whichever has the recorded SHA-256.
fn locate_inputs<T: Send>(
    record: &RunRecord,
    dirs: &[PathBuf],
    read: &(dyn Fn(&Path, &str) -> anyhow::Result<T> + Sync),
) -> anyhow::Result<Vec<(PathBuf, T)>> {
    let mut out = Vec::new();
    for input in &record.inputs {
        // A posted body (`api:<sha256>`) is kept as `<sha256>.ais`.
        let recorded = match input.name.strip_prefix("api:") {
            Some(hash) => PathBuf::from(format!("{hash}.ais")),
            None => PathBuf::from(&input.name),
        };
        let mut candidates = vec![recorded.clone()];
        if let Some(name) = recorded.file_name() {
            candidates.extend(dirs.iter().map(|d| d.join(name)));
        }
        let mut seen = Vec::new();
        let mut found = None;
        for c in candidates.into_iter().filter(|c| c.is_file()) {
            // Hashed on a second thread while `read` reads it; used only if the hash holds.
            let (hash, got) = std::thread::scope(|scope| {
                let hashing = scope.spawn(|| content_hash(&c));
                let got = read(&c, &input.name);
                let hash = hashing
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                (hash, got)
            });
            let (h, _) = hash?;
            if h == input.content_hash {
                found = Some((c, got?));
                break;
            }
            seen.push(format!("{} (SHA-256 {h})", c.display()));
        }
        match found {
            Some(p) => out.push(p),
            None if seen.is_empty() => bail!(
                "input {} of run {} (SHA-256 {}) is not where the run read it: give the directory that holds it with --inputs DIR",
                input.name,
                record.id,
                input.content_hash
            ),
            None => bail!(
                "input {} of run {} had SHA-256 {}; the files found differ: {} (an input changed after it was analysed cannot back a finding)",
                input.name,
                record.id,
                input.content_hash,
                seen.join(", ")
            ),
        }
    }
    Ok(out)
}

/// The MMSIs of the vessel a query names: an IMO number (7 digits) or an MMSI (9 digits),
/// widened to every MMSI of its hull.
pub fn vessel_mmsis(analysis: &Analysis, query: &str) -> Option<Vec<u32>> {
    let q = query.trim();
    let n: u32 = q.parse().ok()?;
    match q.len() {
        7 => analysis
            .hulls
            .iter()
            .filter(|h| h.imos.contains(&n))
            .map(|h| h.mmsis.clone())
            .reduce(|mut a, b| {
                a.extend(b);
                a
            }),
        9 => Some(
            analysis
                .hull_of(n)
                .map_or_else(|| vec![n], |h| h.mmsis.clone()),
        ),
        _ => None,
    }
}

/// The vessels an event is about.
fn vessels_of(e: &Event) -> Vec<u32> {
    let mut v = vec![e.mmsi];
    v.extend(e.other_mmsi);
    v
}

/// Per MMSI, the time windows whose lines (and stored track) the pack needs.
fn windows(events: &[StoredEvent], margin: i64) -> BTreeMap<u32, Vec<(i64, i64)>> {
    let mut w: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for e in events {
        for m in vessels_of(&e.event) {
            w.entry(m)
                .or_default()
                .push((e.event.start - margin, e.event.end + margin));
        }
    }
    w
}

/// `!..VDM,count,number,sequence,channel,...`: the fragment fields of a sentence line.
fn fragment_key(line: &[u8]) -> Option<[&[u8]; 4]> {
    let start = line.iter().rposition(|&c| c == b'!')?;
    let mut f = line[start..].split(|&c| c == b',');
    let _ = f.next()?;
    Some([f.next()?, f.next()?, f.next()?, f.next()?])
}

fn is_pghp(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.starts_with(b"$PGHP")
}

/// The lines a message completed on the current line rests on: its earlier fragments (same
/// fragment count, sequence id and channel) and a `$PGHP` header just before its first line.
fn message_lines(ring: &VecDeque<RawLine>, current: &RawLine, fragments: u8) -> Vec<RawLine> {
    let mut out = vec![current.clone()];
    let mut first = ring.len();
    if fragments > 1 {
        if let Some([count, _, seq, channel]) = fragment_key(&current.bytes) {
            let mut want = usize::from(fragments) - 1;
            for i in (0..ring.len()).rev() {
                if want == 0 {
                    break;
                }
                if let Some([c, n, s, ch]) = fragment_key(&ring[i].bytes) {
                    if c == count && s == seq && ch == channel && n != count {
                        out.push(ring[i].clone());
                        first = i;
                        want -= 1;
                    }
                }
            }
        }
    }
    if first > 0 && is_pghp(&ring[first - 1].bytes) {
        out.push(ring[first - 1].clone());
    }
    out
}

fn is_static(d: &Decoded) -> bool {
    matches!(d.message.header.msg_type, 5 | 19 | 24)
}

/// Static messages are kept apart by type and, for type 24, part.
fn static_key(d: &Decoded) -> (u32, u8, bool) {
    let part_b = matches!(
        d.message.body,
        Body::StaticDataReport(shadowfleet_decode::messages::StaticDataReport::PartB(_))
    );
    (d.message.header.mmsi, d.message.header.msg_type, part_b)
}

/// Reads one input and keeps the lines of the messages of the wanted vessels inside their
/// windows, with the last static report of each before its first window (the identity the
/// detectors knew when the window began).
fn extract(
    path: &Path,
    name: &str,
    windows: &BTreeMap<u32, Vec<(i64, i64)>>,
    config: &DecoderConfig,
) -> anyhow::Result<Vec<RawLine>> {
    let mut reader = open_reader(&Source::File(path.to_owned()))
        .with_context(|| format!("opening {}", path.display()))?;
    let mut decoder = Decoder::new(config.clone());
    let mut ring: VecDeque<RawLine> = VecDeque::with_capacity(LOOKBACK + 1);
    let mut chosen: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut statics: HashMap<(u32, u8, bool), Vec<RawLine>> = HashMap::new();
    let mut got: Vec<Decoded> = Vec::new();
    let mut offset = 0u64;
    let mut decoded = 0u64;
    loop {
        let mut current = ring
            .len()
            .ge(&LOOKBACK)
            .then(|| ring.pop_front())
            .flatten()
            .unwrap_or(RawLine {
                offset: 0,
                bytes: Vec::new(),
            });
        current.bytes.clear();
        current.offset = offset;
        let n = reader
            .read_until(b'\n', &mut current.bytes)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        offset += n as u64;
        let body = current.bytes.strip_suffix(b"\n").unwrap_or(&current.bytes);
        got.clear();
        decoder.push_line(body, &mut got);
        decoded += got.len() as u64;
        for d in &got {
            let Some(w) = windows.get(&d.message.header.mmsi) else {
                continue;
            };
            let Some(t) = d.meta.received.map(|t| t.unix_millis().div_euclid(1000)) else {
                continue;
            };
            if w.iter().any(|(a, b)| (*a..=*b).contains(&t)) {
                for l in message_lines(&ring, &current, d.meta.fragments) {
                    chosen.insert(l.offset, l.bytes);
                }
            } else if is_static(d) && w.iter().all(|(a, _)| t < *a) {
                statics.insert(
                    static_key(d),
                    message_lines(&ring, &current, d.meta.fragments),
                );
            }
        }
        ring.push_back(current);
    }
    if decoded == 0 && offset > 0 {
        bail!(
            "{name}: no NMEA sentence decodes line by line (a CSV or Parquet export?): evidence packs carry the raw lines of NMEA inputs only"
        );
    }
    for lines in statics.into_values() {
        for l in lines {
            chosen.entry(l.offset).or_insert(l.bytes);
        }
    }
    Ok(chosen
        .into_iter()
        .map(|(offset, bytes)| RawLine { offset, bytes })
        .collect())
}

/// Each input's raw lines as one file body.
fn raw_files(raw: &[Vec<RawLine>]) -> Vec<(String, Vec<u8>)> {
    raw.iter()
        .enumerate()
        .map(|(k, lines)| {
            let mut body = Vec::new();
            for l in lines {
                body.extend_from_slice(&l.bytes);
                if !l.bytes.ends_with(b"\n") {
                    body.push(b'\n');
                }
            }
            (format!("raw/{}.nmea", k + 1), body)
        })
        .collect()
}

/// Lines of a body, each with its terminator.
fn split_lines(body: &[u8]) -> Vec<&[u8]> {
    body.split_inclusive(|&c| c == b'\n').collect()
}

/// Re-decodes raw files (in order, as one run) and runs every detector with `config`.
pub fn replay(raw: &[(String, Vec<u8>)], config: &DetectorConfig) -> anyhow::Result<Vec<Event>> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "shadowfleet-replay-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let result = (|| {
        let options = IngestOptions {
            detectors: config.clone(),
            ..IngestOptions::default()
        };
        let mut p = pipeline(&options)?;
        let decoder = config.decoder_config();
        let mut events = Vec::new();
        let mut out = |o: PipelineOutput| {
            if let PipelineOutput::Event(e) = o {
                events.push(*e);
            }
        };
        for (k, (name, body)) in raw.iter().enumerate() {
            let path = dir.join(format!("{k}.nmea"));
            std::fs::write(&path, body).with_context(|| format!("writing {}", path.display()))?;
            run_file(&mut p, &path, &decoder, None, &[], &mut out)
                .with_context(|| format!("re-reading {name}"))?;
        }
        p.finish(&mut out);
        Ok(events)
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// How one event came out of the raw lines.
#[derive(Debug, Clone, Default)]
struct Reproduction {
    /// An event of the same kind and vessels came out.
    found: bool,
    /// Its kind, vessels, times and position are the stored ones.
    core_ok: bool,
    /// Core fields that differ (`field: stored … replayed …`).
    core_diffs: Vec<String>,
    /// Other fields that differ: they rest on data outside the pack (other vessels'
    /// reports), with the stored and the replayed value.
    context: BTreeMap<String, Value>,
}

impl Reproduction {
    fn status(&self) -> &'static str {
        match (self.found, self.core_ok, self.context.is_empty()) {
            (true, true, true) => "exact",
            (true, true, false) => "core",
            _ => "not_reproduced",
        }
    }
}

fn reproduce(event: &Event, replayed: &[Event]) -> Reproduction {
    let same_vessels = |e: &&Event| {
        e.kind() == event.kind() && e.mmsi == event.mmsi && e.other_mmsi == event.other_mmsi
    };
    let candidate = replayed
        .iter()
        .filter(same_vessels)
        .min_by_key(|e| ((e.start - event.start).abs(), (e.end - event.end).abs()));
    let Some(found) = candidate else {
        return Reproduction::default();
    };
    let stored = serde_json::to_value(event).unwrap_or_default();
    let again = serde_json::to_value(found).unwrap_or_default();
    let mut diffs = Vec::new();
    diff_values("", &stored, &again, &mut diffs);
    let mut r = Reproduction {
        found: true,
        ..Reproduction::default()
    };
    for (path, a, b) in diffs {
        if CORE_FIELDS.contains(&path.as_str()) {
            r.core_diffs.push(format!(
                "{path}: the pack's event says {a}, the raw lines give {b}"
            ));
        } else {
            r.context.insert(path, json!({"stored": a, "replayed": b}));
        }
    }
    r.core_ok = r.core_diffs.is_empty();
    r
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) if a.is_number() && b.is_number() => {
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

/// Paths (`a.b.2.c`) where two JSON values differ, with both values.
fn diff_values(path: &str, a: &Value, b: &Value, out: &mut Vec<(String, Value, Value)>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff_values(
                    &join(k),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff_values(&join(&i.to_string()), p, q, out);
            }
        }
        _ if values_equal(a, b) => {}
        _ => out.push((path.to_owned(), a.clone(), b.clone())),
    }
}

/// Checks recorded lines against the bytes at their offsets in an original input.
fn compare_with_input(
    path: &Path,
    recorded: &[(u64, usize, &str)],
    lines: &[&[u8]],
) -> anyhow::Result<Vec<String>> {
    let mut reader = open_reader(&Source::File(path.to_owned()))
        .with_context(|| format!("opening {}", path.display()))?;
    let mut wanted: Vec<(u64, usize, usize)> = recorded
        .iter()
        .enumerate()
        .map(|(i, (o, l, _))| (*o, *l, i))
        .collect();
    wanted.sort_unstable();
    let mut out = Vec::new();
    let mut pos = 0u64;
    let mut buf = Vec::new();
    for (offset, len, i) in wanted {
        if offset < pos {
            out.push(format!(
                "line {} overlaps the line before it in the input",
                i + 1
            ));
            continue;
        }
        std::io::copy(&mut (&mut reader).take(offset - pos), &mut std::io::sink())?;
        buf.resize(len, 0);
        reader.read_exact(&mut buf).with_context(|| {
            format!(
                "{}: ends before offset {}",
                path.display(),
                offset + len as u64
            )
        })?;
        pos = offset + len as u64;
        if lines.get(i).is_none_or(|l| *l != buf.as_slice()) {
            out.push(format!(
                "line {} is not the bytes at offset {offset} of {}",
                i + 1,
                path.display()
            ));
        }
    }
    Ok(out)
}

/// Each event's vessels: identity periods, hull, list matches with their state on the day
/// each event began.
fn vessels_json(analysis: &Analysis, mmsis: &BTreeSet<u32>, events: &[StoredEvent]) -> Value {
    let days: Vec<(i64, String)> = events
        .iter()
        .map(|e| (e.id, rfc3339(e.event.start)[..10].to_owned()))
        .collect();
    let vessels: Vec<Value> = mmsis
        .iter()
        .map(|m| {
            let identities: Vec<&shadowfleet_records::IdentityPeriod> = analysis
                .identities
                .iter()
                .filter(|i| i.mmsi == *m)
                .collect();
            let matches: Vec<Value> = analysis
                .matches
                .iter()
                .filter(|x| x.mmsi == *m)
                .map(|x| {
                    let states: Vec<Value> = days
                        .iter()
                        .map(|(id, day)| {
                            json!({"event": id, "day": day, "state": ListingState::as_of(x.listed_on.as_deref(), day).as_str()})
                        })
                        .collect();
                    json!({
                        "list": x.list,
                        "list_kind": x.list_kind,
                        "entry": x.entry,
                        "entry_name": x.entry_name,
                        "entry_imo": x.entry_imo,
                        "listed_on": x.listed_on,
                        "score": x.score,
                        "matched": x.matched,
                        "why": x.explanation,
                        "state_at_events": states,
                    })
                })
                .collect();
            json!({
                "mmsi": m,
                "hull": analysis.hull_of(*m),
                "identities": identities,
                "list_matches": matches,
            })
        })
        .collect();
    json!(vessels)
}

/// The stored track of each vessel around the events, and the events as points.
fn track_geojson(store: &Store, events: &[StoredEvent], margin: i64) -> anyhow::Result<Value> {
    let mut features = Vec::new();
    for (m, w) in windows(events, margin) {
        let from = w.iter().map(|x| x.0).min().unwrap_or(0);
        let to = w.iter().map(|x| x.1).max().unwrap_or(0);
        let mut points: Vec<(i64, f64, f64)> = Vec::new();
        store.read_positions(
            &PositionQuery {
                mmsis: vec![m],
                from: Some(from),
                to: Some(to),
            },
            &mut |p| {
                if w.iter().any(|(a, b)| (*a..=*b).contains(&p.position.t)) {
                    points.push((p.position.t, p.position.pos.lon, p.position.pos.lat));
                }
            },
        )?;
        points.sort_by_key(|p| p.0);
        features.push(json!({
            "type": "Feature",
            "properties": {
                "mmsi": m,
                "positions": points.len(),
                "times": points.iter().map(|p| rfc3339(p.0)).collect::<Vec<_>>(),
            },
            "geometry": {
                "type": "LineString",
                "coordinates": points.iter().map(|p| [p.1, p.2]).collect::<Vec<_>>(),
            },
        }));
    }
    for e in events {
        if e.event.lat.is_finite() && e.event.lon.is_finite() {
            features.push(json!({
                "type": "Feature",
                "properties": {
                    "event": e.id,
                    "kind": e.event.kind(),
                    "mmsi": e.event.mmsi,
                    "other_mmsi": e.event.other_mmsi,
                    "start": rfc3339(e.event.start),
                    "end": rfc3339(e.event.end),
                },
                "geometry": {"type": "Point", "coordinates": [e.event.lon, e.event.lat]},
            }));
        }
    }
    Ok(json!({"type": "FeatureCollection", "features": features}))
}

/// A map of the track and events as SVG: land sampled from the embedded Natural Earth
/// polygons, each vessel's track (colour-blind-safe palette), event markers, scale and dates.
fn render_svg(track: &Value, events: &[StoredEvent]) -> String {
    const W: f64 = 800.0;
    const H: f64 = 600.0;
    const PALETTE: [&str; 4] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"];
    let mut lons = Vec::new();
    let mut lats = Vec::new();
    for f in track["features"].as_array().into_iter().flatten() {
        let g = &f["geometry"];
        let coords: Vec<&Value> = match g["type"].as_str() {
            Some("LineString") => g["coordinates"].as_array().into_iter().flatten().collect(),
            _ => vec![&g["coordinates"]],
        };
        for c in coords {
            if let (Some(x), Some(y)) = (c[0].as_f64(), c[1].as_f64()) {
                lons.push(x);
                lats.push(y);
            }
        }
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (mut w, mut e, mut s, mut n) = (min(&lons), max(&lons), min(&lats), max(&lats));
    if !w.is_finite() {
        (w, e, s, n) = (-1.0, 1.0, -1.0, 1.0);
    }
    let pad = ((e - w).max(n - s) * 0.15).max(0.05);
    let (w, e, s, n) = (w - pad, e + pad, s - pad, n + pad);
    let kx = (s.to_radians().cos() + n.to_radians().cos()) / 2.0;
    let scale = (W / ((e - w) * kx)).min(H / (n - s));
    let px = |lon: f64, lat: f64| {
        (
            W / 2.0 + (lon - (w + e) / 2.0) * kx * scale,
            H / 2.0 - (lat - (s + n) / 2.0) * scale,
        )
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{W}\" height=\"{H}\" fill=\"#dfeef7\"/>\n"
    );
    if let Ok(reference) = shadowfleet_events::Reference::embedded() {
        let land = &reference.land;
        let cells = 120usize;
        let (dx, dy) = (W / cells as f64, H / cells as f64);
        let _ = writeln!(svg, "<g fill=\"#e8e2d0\" stroke=\"none\">");
        for row in 0..cells {
            let mut run: Option<usize> = None;
            for col in 0..=cells {
                let on = col < cells && {
                    let x = (col as f64 + 0.5) * dx;
                    let y = (row as f64 + 0.5) * dy;
                    let lon = (w + e) / 2.0 + (x - W / 2.0) / (kx * scale);
                    let lat = (s + n) / 2.0 - (y - H / 2.0) / scale;
                    land.contains(shadowfleet_model::LatLon { lat, lon })
                };
                match (on, run) {
                    (true, None) => run = Some(col),
                    (false, Some(c0)) => {
                        let _ = writeln!(
                            svg,
                            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\"/>",
                            c0 as f64 * dx,
                            row as f64 * dy,
                            (col - c0) as f64 * dx + 0.5,
                            dy + 0.5
                        );
                        run = None;
                    }
                    _ => {}
                }
            }
        }
        let _ = writeln!(svg, "</g>");
    }
    let mut legend = Vec::new();
    let mut k = 0;
    for f in track["features"].as_array().into_iter().flatten() {
        if f["geometry"]["type"] != "LineString" {
            continue;
        }
        let colour = PALETTE[k % PALETTE.len()];
        k += 1;
        let coords = f["geometry"]["coordinates"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let times: Vec<i64> = f["properties"]["times"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                t.as_str()
                    .and_then(|t| Timestamp::parse_rfc3339(t).ok())
                    .map_or(0, |t| t.unix_millis() / 1000)
            })
            .collect();
        // Solid where reports follow each other; dashed across an hour or more of silence.
        let mut solid: Vec<String> = Vec::new();
        let mut prev: Option<((f64, f64), i64)> = None;
        for (i, c) in coords.iter().enumerate() {
            let (Some(lon), Some(lat)) = (c[0].as_f64(), c[1].as_f64()) else {
                continue;
            };
            let (x, y) = px(lon, lat);
            let t = times.get(i).copied().unwrap_or(0);
            if let Some(((x0, y0), t0)) = prev {
                if t - t0 >= 3600 {
                    if solid.len() > 1 {
                        let _ = writeln!(
                            svg,
                            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                            solid.join(" ")
                        );
                    }
                    solid.clear();
                    let _ = writeln!(
                        svg,
                        "<line x1=\"{x0:.1}\" y1=\"{y0:.1}\" x2=\"{x:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"2\" stroke-dasharray=\"6 5\"/>"
                    );
                }
            }
            solid.push(format!("{x:.1},{y:.1}"));
            prev = Some(((x, y), t));
        }
        if solid.len() > 1 {
            let _ = writeln!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                solid.join(" ")
            );
        }
        legend.push((
            colour,
            format!(
                "MMSI {}: {} positions (dashed: no report for an hour or more)",
                f["properties"]["mmsi"], f["properties"]["positions"]
            ),
        ));
    }
    for ev in events {
        if !(ev.event.lat.is_finite() && ev.event.lon.is_finite()) {
            continue;
        }
        let (x, y) = px(ev.event.lon, ev.event.lat);
        let _ = writeln!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"7\" fill=\"none\" stroke=\"#000\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\">{} {}</text>",
            x + 9.0,
            y - 9.0,
            ev.event.kind(),
            ev.id
        );
    }
    // Scale bar: a round number of nautical miles near a fifth of the width.
    let nm_per_px = 60.0 / scale; // a degree of latitude is 60 nm
    let target = W / 5.0 * nm_per_px;
    let bar_nm = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
        .into_iter()
        .rfind(|v| *v <= target)
        .unwrap_or(1.0);
    let bar_px = bar_nm / nm_per_px;
    let _ = writeln!(
        svg,
        "<rect x=\"10\" y=\"{:.0}\" width=\"{:.0}\" height=\"{:.0}\" fill=\"#fff\" opacity=\"0.85\"/>",
        H - 28.0 - 16.0 * legend.len() as f64,
        W - 20.0,
        22.0 + 16.0 * legend.len() as f64
    );
    for (i, (colour, text)) in legend.iter().enumerate() {
        let y = H - 24.0 - 16.0 * (legend.len() - i) as f64 + 12.0;
        let _ = writeln!(
            svg,
            "<rect x=\"16\" y=\"{:.0}\" width=\"14\" height=\"4\" fill=\"{colour}\"/><text x=\"36\" y=\"{:.0}\">{text}</text>",
            y - 4.0,
            y
        );
    }
    let span = events
        .iter()
        .map(|e| (e.event.start, e.event.end))
        .fold((i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let _ = writeln!(
        svg,
        "<line x1=\"16\" y1=\"{y:.0}\" x2=\"{:.1}\" y2=\"{y:.0}\" stroke=\"#000\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.0}\">{bar_nm} nm</text><text x=\"{:.0}\" y=\"{:.0}\" text-anchor=\"end\">events {} to {} UTC · land: Natural Earth · shadowfleet {}</text>",
        16.0 + bar_px,
        22.0 + bar_px,
        H - 12.0 + 4.0,
        W - 16.0,
        H - 12.0 + 4.0,
        rfc3339(span.0.min(span.1)),
        rfc3339(span.1.max(span.0)),
        env!("CARGO_PKG_VERSION"),
        y = H - 12.0,
    );
    svg.push_str("</svg>\n");
    svg
}

/// Copernicus Browser links to look for the ships on Sentinel-1 (radar: sees ships through
/// cloud and at night) and Sentinel-2 (optical) imagery at the place and dates of a dark
/// period or an encounter.
fn imagery_links(e: &StoredEvent) -> Option<Value> {
    let ev = &e.event;
    if !matches!(
        ev.kind(),
        EventKind::Gap | EventKind::Encounter | EventKind::Loitering
    ) || !ev.lat.is_finite()
    {
        return None;
    }
    // The place, and for a gap also where the signal came back, with a margin.
    let b = ev.extent()?;
    let bbox = [b[0] - 0.1, b[2] - 0.1, b[1] + 0.1, b[3] + 0.1];
    let from = rfc3339(ev.start - 86_400)[..10].to_owned();
    let to = rfc3339(ev.end + 86_400)[..10].to_owned();
    let (lat, lon) = ((bbox[1] + bbox[3]) / 2.0, (bbox[0] + bbox[2]) / 2.0);
    let link = |dataset: &str| {
        format!(
            "https://browser.dataspace.copernicus.eu/?zoom=11&lat={lat:.4}&lng={lon:.4}&datasetId={dataset}&fromTime={from}T00%3A00%3A00.000Z&toTime={to}T23%3A59%3A59.999Z"
        )
    };
    Some(json!({
        "event": e.id,
        "kind": ev.kind(),
        "bbox": bbox.map(|x| (x * 1e4).round() / 1e4),
        "from": from,
        "to": to,
        "sentinel_1": link("S1_CDAS_IW_VVVH"),
        "sentinel_2": link("S2_L2A_CDAS"),
    }))
}

fn licences() -> String {
    format!(
        "Sources and licences of what this pack holds\n\n\
         * raw/*.nmea, decoded.ndjson, track.geojson: the AIS data the store's user analysed; its licence is theirs.\n\
         * events.json, vessels.json, README.txt, map.svg: made by shadowfleet {} (Apache-2.0) from that data and the reference data below.\n\
         * List matches name the lists the user loaded; each list's own terms apply.\n\n\
         --- Embedded geography (shadowfleet-geo) ---\n{}\n\n--- Embedded places (shadowfleet-places) ---\n{}\n",
        env!("CARGO_PKG_VERSION"),
        shadowfleet_geo::DATA_SOURCES,
        shadowfleet_places::DATA_SOURCES
    )
}

fn describe(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Gap => "went dark: no AIS position was received from it for the period",
        EventKind::Encounter => {
            "met another vessel at sea, close and slow for long enough for a ship-to-ship transfer"
        }
        EventKind::Loitering => "loitered at sea, slow for a long time away from port",
        EventKind::PortCall => "called at a port or terminal",
        EventKind::Spoofing => "broadcast positions that cannot be true (spoofing)",
        EventKind::IdentityChange => "changed the identity it broadcasts",
        EventKind::Zone => "entered, left or crossed a watched zone",
        EventKind::Interference => {
            "was among vessels whose positions were displaced together (GNSS interference)"
        }
    }
}

fn summary(
    events: &[StoredEvent],
    vessels: &Value,
    outcome: &[Reproduction],
    imagery: &[Value],
    left_out: &Value,
    record: &RunRecord,
) -> String {
    let mut s = String::from("shadowfleet evidence pack\n=========================\n\n");
    let name_of = |m: u32| -> String {
        vessels
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["mmsi"] == m)
            .and_then(|v| v["identities"].as_array()?.last().cloned())
            .map(|i| {
                let imo = i["imo"]
                    .as_u64()
                    .map(|x| format!(", IMO {x}"))
                    .unwrap_or_default();
                format!(
                    "{} (MMSI {m}{imo})",
                    i["name"].as_str().unwrap_or("").trim()
                )
            })
            .unwrap_or_else(|| format!("MMSI {m}"))
    };
    for (e, o) in events.iter().zip(outcome) {
        let ev = &e.event;
        let _ = writeln!(
            s,
            "Event {}: {} {} from {} to {} UTC{}.",
            e.id,
            name_of(ev.mmsi),
            describe(ev.kind()),
            rfc3339(ev.start),
            rfc3339(ev.end),
            if ev.lat.is_finite() {
                format!(", near {:.4}°N {:.4}°E", ev.lat, ev.lon)
            } else {
                String::new()
            }
        );
        if let Some(o) = ev.other_mmsi {
            let _ = writeln!(s, "  The other vessel: {}.", name_of(o));
        }
        let _ = writeln!(
            s,
            "  Confidence: {} ({}).",
            ev.confidence.level.as_str(),
            ev.confidence.reasons.join("; ")
        );
        let _ = writeln!(
            s,
            "  Reproduced from the raw lines in this pack: {}.",
            match o.status() {
                "exact" => "yes, every field".to_owned(),
                "core" => format!(
                    "kind, vessels, times and place yes; {} other field(s) rest on reports of other vessels not in the pack (see manifest.json, reproduction)",
                    o.context.len()
                ),
                _ => format!("no ({})", o.core_diffs.join("; ")),
            }
        );
        for v in vessels.as_array().into_iter().flatten() {
            for m in v["list_matches"].as_array().into_iter().flatten() {
                let state = m["state_at_events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|x| x["event"] == e.id)
                    .and_then(|x| x["state"].as_str())
                    .unwrap_or("date_unknown");
                let when = match state {
                    "listed" => "already listed then",
                    "not_yet_listed" => "listed only later",
                    _ => "listing date not given by the list",
                };
                let _ = writeln!(
                    s,
                    "  List: MMSI {} matches {} entry {} ({}), listed on {}: {when}.",
                    v["mmsi"],
                    m["list"].as_str().unwrap_or(""),
                    m["entry"].as_str().unwrap_or(""),
                    m["why"].as_str().unwrap_or(""),
                    m["listed_on"].as_str().unwrap_or("(no date)")
                );
            }
        }
        s.push('\n');
    }
    if let Some(n) = left_out["events_of_earlier_runs"].as_u64() {
        let _ = writeln!(s, "Left out: {n} event(s) of the same vessel found by earlier runs (a pack holds one run's events).\n");
    }
    if !imagery.is_empty() {
        s.push_str("Check on satellite imagery (Copernicus Browser; choose a date in the range, Sentinel-1 radar sees ships through cloud):\n");
        for i in imagery {
            let _ = writeln!(
                s,
                "  event {}: bbox {} from {} to {}\n    Sentinel-1: {}\n    Sentinel-2: {}",
                i["event"],
                i["bbox"],
                i["from"].as_str().unwrap_or(""),
                i["to"].as_str().unwrap_or(""),
                i["sentinel_1"].as_str().unwrap_or(""),
                i["sentinel_2"].as_str().unwrap_or("")
            );
        }
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Run {} (started {}) read {} input(s):",
        record.id,
        record.started_at,
        record.inputs.len()
    );
    for i in &record.inputs {
        let _ = writeln!(
            s,
            "  {} SHA-256 {} ({} bytes)",
            i.name, i.content_hash, i.bytes
        );
    }
    let _ = write!(
        s,
        "\nWhat is here\n  manifest.json     every member's SHA-256, the inputs' hashes, the detector configuration and how each event was reproduced\n  raw/N.nmea        the raw input lines behind the finding, bytes as received; raw/N.index.csv gives each line's byte offset and length in input N and its SHA-256\n  decoded.ndjson    the decoded messages (gpsd field names, pack_file and pack_line name the raw line)\n  events.json       the event(s) as stored, with evidence and confidence\n  config.toml       the detector configuration (every threshold) the run used\n  vessels.json      identities, hull and list matches (list, entry, listing date, state at the time)\n  track.geojson     the stored track around the event(s); map.svg renders it\n  imagery.json      Copernicus Browser links for satellite imagery\n  LICENSES.txt      sources and licences\n\nCheck it: shadowfleet verify PACK [--input ORIGINAL_FILE]...\n\n{NOT_A_DETERMINATION}\n"
    );
    s
}

/// The decoded messages of the raw files, one gpsd-named JSON object per line with the raw
/// line it came from.
fn decoded(pack: &Pack, files: usize, config: &DecoderConfig) -> Vec<u8> {
    let mut out = String::new();
    let mut one = String::new();
    for k in 1..=files {
        let file = format!("raw/{k}.nmea");
        let Some(body) = pack.member(&file) else {
            continue;
        };
        let mut decoder = Decoder::new(config.clone());
        let mut got: Vec<Decoded> = Vec::new();
        decoder.push(body, &mut got);
        decoder.finish(&mut got);
        for d in &got {
            one.clear();
            write_json(d, JsonStyle::Scaled, None, &mut one);
            let Some(head) = one.trim_end().strip_suffix('}') else {
                continue;
            };
            let _ = writeln!(
                out,
                "{head},\"pack_file\":\"{file}\",\"pack_line\":{}}}",
                d.meta.line
            );
        }
    }
    out.into_bytes()
}
