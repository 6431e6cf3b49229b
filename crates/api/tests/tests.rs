#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The API on a store made from a short simulation: every endpoint, bad input, unknown ids,
//! caps, and the OpenAPI description.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::path::PathBuf;

use shadowfleet_api::server::{router, AppState, MAX_PAGE};
use shadowfleet_run::analysis::AnalysisConfig;
use shadowfleet_run::ingest::{ingest, IngestInput, IngestOptions};
use shadowfleet_run::DetectorConfig;
use shadowfleet_simulate::{simulate_in_memory, SimOptions};
use shadowfleet_store::Store;
use tower::ServiceExt;

const KEY: &str = "test-key-0123456789abcdef";

fn clock() -> i64 {
    1_767_225_600
}

/// Simulated AIS of `baltic` (a third of the fleet), and the lists the simulator publishes.
fn simulation(days: u32) -> (Vec<u8>, Vec<shadowfleet_refdata::RefList>) {
    let opts = SimOptions {
        seed: 4,
        days: Some(days),
        fleet_scale: 0.35,
    };
    let (ais, truth, _) = simulate_in_memory("baltic", &opts).unwrap();
    let vessels: Vec<_> = truth
        .iter()
        .filter_map(|r| match r {
            shadowfleet_simulate::truth::TruthRecord::Vessel(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let p = shadowfleet_simulate::published::published(&vessels, 4);
    let lists = [
        ("sanctions_eu.csv", &p.sanctions_eu),
        ("watchlist.csv", &p.watchlist),
        ("particulars.csv", &p.particulars),
    ]
    .iter()
    .map(|(name, text)| {
        shadowfleet_refdata::parse(std::path::Path::new(name), text.as_bytes(), None, None).unwrap()
    })
    .collect();
    (ais, lists)
}

/// A store in a fresh directory named by `tag`, holding `ais` ingested as one run (through
/// the same code as `shadowfleet analyze`) and `lists`.
fn store(tag: &str, ais: &[u8], lists: &[shadowfleet_refdata::RefList]) -> PathBuf {
    // Tests run in parallel in one process: each store its own directory.
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    // Under the target's scratch directory with a fixed name per store: a later run replaces
    // it (stores named by process under the system's temporary directory piled up).
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("api-{tag}-{n}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("input.nmea");
    std::fs::write(&file, ais).unwrap();
    let options = IngestOptions {
        started_at: clock(),
        ..IngestOptions::default()
    };
    let report = ingest(&dir.join("store"), &[IngestInput::file(&file)], &options).unwrap();
    assert!(
        report.positions > 0 && report.position_files > 0,
        "{report:?}"
    );
    let mut store = Store::open(&dir.join("store")).unwrap();
    for l in lists {
        store.put_list(l, "x", "2026-01-01T00:00:00Z").unwrap();
    }
    dir.join("store")
}

/// A store with 10 days of `baltic` and the published lists; writes enabled with [`KEY`].
fn state() -> Arc<AppState> {
    let (ais, lists) = simulation(10);
    let dir = store("read", &ais, &lists);
    Arc::new(
        AppState::open(
            &dir,
            AnalysisConfig::default(),
            DetectorConfig::default(),
            Some(KEY.into()),
            clock,
        )
        .unwrap(),
    )
}

/// Sends `req`; the status and the body as JSON (or as a JSON string when it is not JSON).
async fn send(app: &axum::Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    send(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn every_endpoint_answers_and_bad_input_is_a_400_with_a_reason() {
    let app = router(state());
    // Vessels: highest risk first; search by name, IMO, MMSI.
    let (s, v) = get(&app, "/api/vessels?limit=5").await;
    assert_eq!(s, StatusCode::OK);
    let list = v["vessels"].as_array().unwrap();
    assert_eq!(list.len(), 5);
    assert!(v["total"].as_u64().unwrap() >= 5);
    let top = &list[0];
    let id = top["id"].as_str().unwrap().to_owned();
    let name = top["names"][0].as_str().unwrap().to_owned();
    let (s, found) = get(
        &app,
        &format!("/api/vessels?q={}", name.replace(' ', "%20")),
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        found["vessels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == id.as_str()),
        "{name}: {found}"
    );
    let mmsi = top["mmsis"][0].to_string();
    let (_, by_mmsi) = get(&app, &format!("/api/vessels?q={mmsi}")).await;
    assert_eq!(by_mmsi["vessels"][0]["id"], id.as_str());
    // The profile.
    let (s, p) = get(&app, &format!("/api/vessels/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    for k in ["identities", "matches", "risk", "voyages"] {
        assert!(p.get(k).is_some(), "profile without {k}");
    }
    assert!(p["risk"]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i.get("events").is_some()));
    // Its hull: every MMSI of the profile, each identity period a link with its basis.
    let hull = &p["hull"];
    assert!(hull["id"].as_str().unwrap().starts_with("H-"), "{hull}");
    for m in p["mmsis"].as_array().unwrap() {
        assert!(hull["mmsis"].as_array().unwrap().contains(m), "{hull}");
    }
    for l in hull["links"].as_array().unwrap() {
        assert!(l["basis"]["basis"].is_string(), "{l}");
        assert!(l["from"].as_i64().unwrap() <= l["to"].as_i64().unwrap());
    }
    // Unknown and malformed ids.
    assert_eq!(
        get(&app, "/api/vessels/imo:1000000").await.0,
        StatusCode::NOT_FOUND
    );
    let (s, e) = get(&app, "/api/vessels/imo:12").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "bad_request");
    assert!(e["reason"].as_str().unwrap().contains("imo:NNNNNNN"));
    // The track, from the position store: segments with a time per vertex, in order.
    let (s, t) = get(&app, &format!("/api/vessels/{id}/track")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    assert_eq!(t["type"], "FeatureCollection");
    let full = t["vertices"].as_u64().unwrap();
    assert!(full > 100, "{full} vertices");
    assert_eq!(
        full,
        t["positions"].as_u64().unwrap(),
        "no zoom: every position"
    );
    for f in t["features"].as_array().unwrap() {
        let times: Vec<i64> = f["properties"]["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        let coords = f["geometry"]["coordinates"].as_array().unwrap();
        if f["geometry"]["type"] == "LineString" {
            assert_eq!(coords.len(), times.len());
            for c in coords {
                let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                assert!((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat));
            }
        }
    }
    // Simplified for a zoom: fewer vertices; a window: only its times.
    let (_, z) = get(&app, &format!("/api/vessels/{id}/track?zoom=4")).await;
    assert!(
        z["vertices"].as_u64().unwrap() < full / 2,
        "{}",
        z["vertices"]
    );
    let first = t["features"][0]["properties"]["times"][0].as_i64().unwrap();
    let (lo, hi) = (first + 86_400, first + 2 * 86_400);
    let rfc = |x: i64| shadowfleet_model::Timestamp::from_unix_seconds(x).to_string();
    let (_, w) = get(
        &app,
        &format!("/api/vessels/{id}/track?from={}&to={}", rfc(lo), rfc(hi)),
    )
    .await;
    let wn = w["vertices"].as_u64().unwrap();
    assert!(wn > 0 && wn < full, "{wn} of {full}");
    for f in w["features"].as_array().unwrap() {
        for x in f["properties"]["times"].as_array().unwrap() {
            assert!((lo..=hi).contains(&x.as_i64().unwrap()));
        }
    }
    // An empty interval is an empty track, not an error (the OpenAPI description allows it).
    let (s, e) = get(
        &app,
        &format!("/api/vessels/{id}/track?from=2026-01-05T00:00:00Z&to=2026-01-04T00:00:00Z"),
    )
    .await;
    assert_eq!(
        (s, e["vertices"].as_u64()),
        (StatusCode::OK, Some(0)),
        "{e}"
    );
    for bad in ["zoom=23", "zoom=-1", "from=noon", "from=", "colour=red"] {
        let (s, e) = get(&app, &format!("/api/vessels/{id}/track?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {e}");
    }
    assert_eq!(
        get(&app, "/api/vessels/imo:1000000/track").await.0,
        StatusCode::NOT_FOUND
    );
    // Events: filters and pagination.
    let (s, ev) = get(&app, "/api/events?kind=port_call&limit=3&offset=1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ev["events"].as_array().unwrap().len(), 3);
    assert!(ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["kind"] == "port_call"));
    let (_, baltic) = get(
        &app,
        "/api/events?bbox=9,53,31,66&from=2026-01-05T00:00:00Z",
    )
    .await;
    assert!(baltic["total"].as_u64().unwrap() > 0);
    let inside = |lat: f64, lon: f64| (53.0..=66.0).contains(&lat) && (9.0..=31.0).contains(&lon);
    for e in baltic["events"].as_array().unwrap() {
        // The event's position, or for a gap where the signal came back.
        let at = inside(e["lat"].as_f64().unwrap(), e["lon"].as_f64().unwrap());
        let on = e["details"]["on_lat"]
            .as_f64()
            .zip(e["details"]["on_lon"].as_f64())
            .is_some_and(|(a, o)| inside(a, o));
        assert!(at || on, "{e}");
    }
    // Nothing in an empty sea far away, nor in a box whose south is north of its north; a
    // box across the antimeridian (west beyond east) holds what is east of its west or west
    // of its east: here everything.
    let (_, none) = get(&app, "/api/events?bbox=-40,-40,-39,-39").await;
    assert_eq!(none["total"], 0);
    let (s, none) = get(&app, "/api/events?bbox=9,66,31,53").await;
    assert_eq!((s, &none["total"]), (StatusCode::OK, &serde_json::json!(0)));
    let (_, all) = get(&app, "/api/events?bbox=-180,-90,180,90&limit=1").await;
    let (_, wrapped) = get(&app, "/api/events?bbox=0,-90,-0.0001,90&limit=1").await;
    assert_eq!(wrapped["total"], all["total"]);
    let (s, empty) = get(&app, "/api/exposure?from=2026-03&to=2026-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(empty["rows"].as_array().unwrap().is_empty());
    for bad in [
        "/api/events?kind=party",
        "/api/events?bbox=1,2,3",
        "/api/events?bbox=181,60,5,50",
        "/api/events?to=",
        "/api/events?mmsi=1000000000",
        "/api/events?from=yesterday",
        "/api/events?limit=0",
        &format!("/api/events?limit={}", MAX_PAGE + 1),
        "/api/events?offset=-1",
        "/api/events?colour=red",
        "/api/exposure?from=2026-13",
        "/api/flows?origin=RUS",
        "/api/flows?origin=",
    ] {
        let (s, e) = get(&app, bad).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert!(!e["reason"].as_str().unwrap_or("").is_empty(), "{bad}: {e}");
    }
    // Flows and exposure.
    let (s, f) = get(&app, "/api/flows?origin=RU&limit=10").await;
    assert_eq!(s, StatusCode::OK);
    assert!(f["flows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["origin"]["country"] == "RU"));
    let (s, x) = get(&app, "/api/exposure?from=2026-01&to=2026-01").await;
    assert_eq!(s, StatusCode::OK);
    assert!(x["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["month"] == "2026-01" && r.get("low_bbl").is_some()));
    // OpenAPI, generated from the handlers: every endpoint is in it.
    let (s, o) = get(&app, "/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    for path in [
        "/api/vessels",
        "/api/vessels/{id}",
        "/api/vessels/{id}/track",
        "/api/events",
        "/api/flows",
        "/api/exposure",
        "/api/ingest",
        "/api/ceasefire/weekly",
        "/api/ceasefire/incidents",
        "/api/ceasefire/clusters",
    ] {
        assert!(o["paths"].get(path).is_some(), "openapi without {path}");
    }
    // The ceasefire monitor on a Baltic store: no rows, and a note that says why.
    let (s, c) = get(&app, "/api/ceasefire/weekly").await;
    assert_eq!(s, StatusCode::OK);
    assert!(c["rows"].as_array().unwrap().is_empty(), "{c}");
    assert!(c["note"].as_str().unwrap().contains("Black Sea"), "{c}");
    let (s, c) = get(&app, "/api/ceasefire/incidents?time=yesterday").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{c}");
    assert!(c["reason"].as_str().unwrap().contains("time"), "{c}");
    // ... with the schemas of its answers, generated from the same types: every event kind
    // the build knows, each kind's details.
    let kinds: Vec<&str> = o["components"]["schemas"]["EventKind"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k.as_str())
        .collect();
    let all: Vec<&str> = shadowfleet_records::EventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(kinds, all);
    for schema in [
        "EventPage",
        "EventView",
        "EventDetails",
        "GapDetails",
        "Profile",
        "FlowPage",
        "ExposureAnswer",
        "IngestAnswer",
        "ErrorBody",
        "CeasefireWeekly",
        "IncidentEffect",
    ] {
        assert!(
            o["components"]["schemas"].get(schema).is_some(),
            "openapi without schema {schema}"
        );
    }
    assert_eq!(
        o["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["application/json"]
            ["schema"]["$ref"],
        "#/components/schemas/EventPage"
    );
    // Unknown paths are JSON 404s; read endpoints take no POST.
    let (s, e) = get(&app, "/api/nothing").await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let post = app
        .clone()
        .oneshot(Request::post("/api/vessels").body(Body::from("x")).unwrap())
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    // The report, and the map with everything it loads served from here.
    assert_eq!(get(&app, "/report").await.0, StatusCode::OK);
    let (s, page) = get(&app, "/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("/vendor/maplibre-gl.js"));
    for asset in [
        "/app.js",
        "/vendor/maplibre-gl.js",
        "/vendor/maplibre-gl.css",
    ] {
        assert_eq!(get(&app, asset).await.0, StatusCode::OK, "{asset}");
    }
    let land = app
        .clone()
        .oneshot(
            Request::get("/map/land.geojson")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(land.status(), StatusCode::OK);
    assert_eq!(land.headers()["content-encoding"], "gzip");
    // The icon the page links (browsers ask for /favicon.ico too).
    for icon in ["/favicon.svg", "/favicon.ico"] {
        let r = app
            .clone()
            .oneshot(Request::get(icon).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{icon}");
        assert_eq!(r.headers()["content-type"], "image/svg+xml");
    }
    assert!(page.as_str().unwrap().contains("/favicon.svg"));
    // Flows carry the path the map draws.
    let (_, f) = get(&app, "/api/flows?limit=50").await;
    assert!(
        f["flows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["path"].as_array().is_some_and(|p| p.len() >= 2)),
        "no flow with a path"
    );
}

async fn post(
    app: &axum::Router,
    uri: &str,
    key: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, Value) {
    let mut req = Request::post(uri);
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    send(app, req.body(Body::from(body)).unwrap()).await
}

/// `POST /api/ingest`: only with the key; appends a run whose events and positions the read
/// endpoints then show; the same body twice is a no-op; a read-only server refuses.
#[tokio::test]
async fn ingest_needs_the_key_and_appends() {
    let (ais, lists) = simulation(6);
    // The first half of the stream in the store; the second half posted.
    let text = String::from_utf8(ais).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let half = lines.len() / 2;
    let first = lines[..half].join("\n") + "\n";
    let second = (lines[half..].join("\n") + "\n").into_bytes();
    let dir = store("ingest", first.as_bytes(), &lists);
    let open = |key: Option<&str>| {
        Arc::new(
            AppState::open(
                &dir,
                AnalysisConfig::default(),
                DetectorConfig::default(),
                key.map(str::to_owned),
                clock,
            )
            .unwrap(),
        )
    };
    // Read-only without a key: 403 whatever is sent.
    let ro = router(open(None));
    let (s, e) = post(&ro, "/api/ingest", Some(KEY), second.clone()).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    // A short key is refused at start-up.
    assert!(AppState::open(
        &dir,
        AnalysisConfig::default(),
        DetectorConfig::default(),
        Some("short".into()),
        clock
    )
    .is_err());

    let app = router(open(Some(KEY)));
    let (_, before) = get(&app, "/api/events?limit=1").await;
    let before = before["total"].as_u64().unwrap();
    for key in [None, Some("wrong-key-0123456789abcdef")] {
        let (s, e) = post(&app, "/api/ingest", key, second.clone()).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized"))
        );
    }
    let (s, e) = post(&app, "/api/ingest", Some(KEY), Vec::new()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    // Nothing was written by the refused calls.
    assert_eq!(
        get(&app, "/api/events?limit=1").await.1["total"]
            .as_u64()
            .unwrap(),
        before
    );

    let (s, r) = post(&app, "/api/ingest", Some(KEY), second.clone()).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert!(r["run"].as_i64().is_some(), "{r}");
    assert!(r["messages"].as_u64().unwrap() > 1000);
    assert!(r["positions"].as_u64().unwrap() > 1000);
    for why in ["late", "invalid", "clock_errors"] {
        assert!(r["dropped"][why].as_u64().is_some(), "{r}");
    }
    let (_, after) = get(&app, "/api/events?limit=1").await;
    assert!(after["total"].as_u64().unwrap() > before, "{after}");
    // The same body again: recognised by its hash, nothing new.
    let (s, again) = post(&app, "/api/ingest", Some(KEY), second.clone()).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again["run"], Value::Null, "{again}");
    assert_eq!(again["skipped"].as_array().unwrap().len(), 1);
    let store = Store::open_existing(&dir).unwrap();
    assert_eq!(store.input_count().unwrap(), 2);
    // The posted input is kept in the store.
    assert_eq!(std::fs::read_dir(dir.join("incoming")).unwrap().count(), 1);
    // Unreadable input: a 400 naming the problem, the store unchanged.
    let (s, e) = post(
        &app,
        "/api/ingest",
        Some(KEY),
        vec![0x1f, 0x8b, 0x08, 0, 1, 2],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    assert_eq!(store.input_count().unwrap(), 2);
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}

/// JSON and GeoJSON come compressed when the client asks (gzip or brotli), plain when it does
/// not; the body is the same either way.
#[tokio::test]
async fn responses_are_compressed_as_the_client_asks() {
    let app = router(state());
    let fetch = |enc: Option<&'static str>, uri: &'static str| {
        let app = app.clone();
        async move {
            let mut req = Request::get(uri);
            if let Some(e) = enc {
                req = req.header("accept-encoding", e);
            }
            let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(resp.status(), StatusCode::OK, "{uri}");
            let encoding = resp
                .headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            let bytes = axum::body::to_bytes(resp.into_body(), 64 << 20)
                .await
                .unwrap();
            (encoding, bytes.to_vec())
        }
    };
    for uri in [
        "/api/events?limit=1000&min_confidence=low",
        "/api/flows?limit=100",
    ] {
        let (plain_enc, plain) = fetch(None, uri).await;
        assert_eq!(plain_enc, None, "{uri}");
        let plain: Value = serde_json::from_slice(&plain).unwrap();
        let (enc, gz) = fetch(Some("gzip"), uri).await;
        assert_eq!(enc.as_deref(), Some("gzip"), "{uri}");
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut unzipped)
            .unwrap();
        assert!(
            gz.len() < unzipped.len(),
            "{uri}: {} vs {}",
            gz.len(),
            unzipped.len()
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&unzipped).unwrap(),
            plain,
            "{uri}"
        );
        let (enc, _) = fetch(Some("br"), uri).await;
        assert_eq!(enc.as_deref(), Some("br"), "{uri}");
    }
}

/// Every segment of every line of a map layer, but for canal transits, clear of land (the
/// land mask the detectors and the router use); the count of segments checked.
fn assert_at_sea(layer: &Value, land: &shadowfleet_geo::Land) -> usize {
    let mut checked = 0;
    for f in layer["features"].as_array().unwrap() {
        if f["geometry"]["type"] != "LineString" || f["properties"]["drawn"] == "canal" {
            continue;
        }
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let at = |i: usize| shadowfleet_geo::LatLon {
            lon: c[i][0].as_f64().unwrap(),
            lat: c[i][1].as_f64().unwrap(),
        };
        for i in 1..c.len() {
            assert!(
                !land.segment_touches(at(i - 1), at(i)),
                "{:?} → {:?} crosses land: {}",
                at(i - 1),
                at(i),
                f["properties"]
            );
            checked += 1;
        }
    }
    checked
}

#[tokio::test]
async fn map_layers_follow_the_sea_and_never_cross_land() {
    let app = router(state());
    let land = shadowfleet_geo::Land::natural_earth_10m().unwrap();
    // Flows: legs along the ships' own tracks, stops as points.
    let (s, flows) = get(&app, "/api/map/flows?origin=RU").await;
    assert_eq!(s, StatusCode::OK, "{flows}");
    let features = flows["features"].as_array().unwrap();
    let drawn = |how: &str| {
        features
            .iter()
            .filter(|f| f["properties"]["drawn"] == how)
            .count()
    };
    assert!(drawn("track") > 0, "{}", flows["undrawn"]);
    assert!(features
        .iter()
        .any(|f| f["geometry"]["type"] == "Point" && f["properties"]["role"] == "discharge"));
    let n = assert_at_sea(&flows, &land);
    assert!(n > 20, "{n} segments");
    // Every leg belongs to a flow the flows endpoint lists.
    let (_, listed) = get(&app, "/api/flows?origin=RU&limit=1000").await;
    let ids: std::collections::HashSet<i64> = listed["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect();
    assert_eq!(flows["flows"].as_u64().unwrap() as usize, ids.len());
    for f in features {
        assert!(ids.contains(&f["properties"]["flow"].as_i64().unwrap()));
    }
    // The same answer again (kept by the snapshot).
    assert_eq!(get(&app, "/api/map/flows?origin=RU").await.1, flows);
    // Gaps: each the routed path between its ends, with its hours and a label point.
    let (s, gaps) = get(&app, "/api/map/gaps").await;
    assert_eq!(s, StatusCode::OK, "{gaps}");
    let (_, listed) = get(&app, "/api/events?kind=gap&min_confidence=low&limit=1000").await;
    assert_eq!(gaps["gaps"], listed["total"]);
    let undrawn: u64 = gaps["undrawn"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    let drawn_ids: std::collections::HashSet<i64> = gaps["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        drawn_ids.len() as u64 + undrawn,
        gaps["gaps"].as_u64().unwrap()
    );
    for f in gaps["features"].as_array().unwrap() {
        assert!(f["properties"]["hours"].as_f64().unwrap() >= 6.0);
        assert_eq!(f["properties"]["label"].as_array().unwrap().len(), 2);
    }
    assert_at_sea(&gaps, &land);
    // Activity: tanker cells on a day of the data; none before it.
    let day = listed["events"][0]["start"].as_str().unwrap()[..10].to_owned();
    let (s, act) = get(&app, &format!("/api/map/activity?day={day}")).await;
    assert_eq!(s, StatusCode::OK, "{act}");
    let cells = act["features"].as_array().unwrap();
    assert!(!cells.is_empty(), "{act}");
    assert_eq!(act["resolution"], 5);
    for c in cells {
        let p = &c["properties"];
        assert!(p["vessels"].as_u64().unwrap() >= 1);
        assert!(p["vessel_hours"].as_u64().unwrap() >= p["vessels"].as_u64().unwrap());
        let ring = c["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.first(), ring.last());
    }
    let total: u64 = cells
        .iter()
        .map(|c| c["properties"]["vessel_hours"].as_u64().unwrap())
        .sum();
    assert_eq!(act["vessel_hours"].as_u64().unwrap(), total);
    let (_, coarse) = get(
        &app,
        &format!("/api/map/activity?day={day}&res=3&fleet=all"),
    )
    .await;
    assert!(coarse["features"].as_array().unwrap().len() < cells.len() * 2);
    let (_, empty) = get(&app, "/api/map/activity?day=2001-01-01").await;
    assert_eq!(empty["cells"], 0);
    // Bad input: a 400 naming the parameter.
    for (uri, names) in [
        ("/api/map/activity", "day"),
        ("/api/map/activity?day=2026-02-30", "day"),
        ("/api/map/activity?day=2026-01-05&res=9", "res"),
        ("/api/map/activity?day=2026-01-05&fleet=cargo", "fleet"),
        ("/api/map/flows?origin=RUS", "origin"),
        ("/api/map/flows?zoom=13", "zoom"),
        ("/api/map/gaps?x=1", "unknown parameter"),
    ] {
        let (s, body) = get(&app, uri).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert!(
            body["reason"].as_str().unwrap().contains(names),
            "{uri}: {body}"
        );
    }
}

/// The same on `global` (long legs through the straits, the Suez canal and round the Cape).
#[tokio::test]
async fn global_flows_and_gaps_never_cross_land() {
    let opts = SimOptions {
        seed: 7,
        days: Some(30),
        fleet_scale: 0.5,
    };
    let (ais, _, _) = simulate_in_memory("global", &opts).unwrap();
    let dir = store("global-map", &ais, &[]);
    let state = AppState::open(
        &dir,
        AnalysisConfig::default(),
        DetectorConfig::default(),
        None,
        clock,
    )
    .unwrap();
    let app = router(Arc::new(state));
    let land = shadowfleet_geo::Land::natural_earth_10m().unwrap();
    let (s, flows) = get(&app, "/api/map/flows").await;
    assert_eq!(s, StatusCode::OK, "{flows}");
    let n = assert_at_sea(&flows, &land);
    assert!(n > 100, "{n} segments: {}", flows["undrawn"]);
    let (_, gaps) = get(&app, "/api/map/gaps").await;
    assert!(gaps["gaps"].as_u64().unwrap() > 5, "{}", gaps["gaps"]);
    assert_at_sea(&gaps, &land);
}

/// The ceasefire endpoints on three weeks of `black_sea` (half the fleet): weekly departures
/// of Odesa with the events behind them, the traffic after the simulated strike, the
/// spoofing clusters as GeoJSON, and the page that charts them.
#[tokio::test]
async fn the_ceasefire_endpoints_answer_on_the_black_sea() {
    let opts = SimOptions {
        seed: 5,
        days: Some(24),
        fleet_scale: 0.5,
    };
    let (ais, _, _) = simulate_in_memory("black_sea", &opts).unwrap();
    let dir = store("ceasefire", &ais, &[]);
    let state = Arc::new(
        AppState::open(
            &dir,
            AnalysisConfig::default(),
            DetectorConfig::default(),
            None,
            clock,
        )
        .unwrap(),
    );
    let app = router(state);
    let (s, w) = get(
        &app,
        "/api/ceasefire/weekly?metric=departures&place=UA-ODESA",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{w}");
    let rows = w["rows"].as_array().unwrap();
    assert!(rows.len() >= 3, "{w}");
    assert!(rows
        .iter()
        .all(|r| r["metric"] == "departures" && r["place"] == "UA-ODESA"));
    let total: f64 = rows
        .iter()
        .filter(|r| r["split"] == "all")
        .map(|r| r["value"].as_f64().unwrap())
        .sum();
    let events: usize = rows
        .iter()
        .filter(|r| r["split"] == "all")
        .map(|r| r["events"].as_array().unwrap().len())
        .sum();
    assert!(total > 0.0 && events as f64 == total, "{w}");
    // The strike closed Odesa from day 17 (2025-03-20): nothing departs in the week after.
    let (s, inc) = get(
        &app,
        "/api/ceasefire/incidents?time=2025-03-20T00:00:00Z&place=UA-ODESA",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{inc}");
    let odesa = &inc.as_array().unwrap()[0];
    assert_eq!(odesa["place"], "UA-ODESA");
    assert!(odesa["before_per_day"].as_f64().unwrap() > 0.0, "{inc}");
    assert_eq!(odesa["after7_per_day"].as_f64().unwrap(), 0.0, "{inc}");
    let (s, bad) = get(
        &app,
        "/api/ceasefire/incidents?time=2025-03-20T00:00:00Z&place=XX",
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{bad}");
    let (s, c) = get(&app, "/api/ceasefire/clusters").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(c["type"], "FeatureCollection");
    assert!(!c["features"].as_array().unwrap().is_empty(), "{c}");
    let (s, page) = get(&app, "/ceasefire").await;
    assert_eq!(s, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("/api/ceasefire/weekly"));
}
