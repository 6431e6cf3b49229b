#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly")]
//! The API on a store made from a short simulation: every endpoint, bad input, unknown ids,
//! caps, and the OpenAPI description.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use shadowfleet_api::analysis::{Analysis, AnalysisConfig};
use shadowfleet_api::server::{router, AppState, MAX_PAGE};
use shadowfleet_decode::{Decoded, Decoder, DecoderConfig};
use shadowfleet_events::{DetectorConfig, Event, Pipeline, PipelineOutput};
use shadowfleet_geo::Land;
use shadowfleet_identities::Identity;
use shadowfleet_places::{Mids, Places};
use shadowfleet_simulate::{simulate_in_memory, SimOptions};
use shadowfleet_store::{InputRecord, Store};
use tower::ServiceExt;

/// A store with 10 days of `baltic` (a third of the fleet) and the lists the simulator
/// publishes.
fn state() -> Arc<AppState> {
    let dir = std::env::temp_dir().join(format!("shadowfleet-api-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let opts = SimOptions {
        seed: 4,
        days: Some(10),
        fleet_scale: 0.35,
    };
    let (ais, truth, _) = simulate_in_memory("baltic", &opts).unwrap();
    let land = Land::natural_earth_10m().unwrap();
    let places = Places::embedded(&land).unwrap();
    let mids = Mids::embedded().unwrap();
    let mut pipeline = Pipeline::new(DetectorConfig::default(), &land, &places, &mids);
    let mut events: Vec<Event> = Vec::new();
    let mut identities: Vec<Identity> = Vec::new();
    let mut out = |o: PipelineOutput| match o {
        PipelineOutput::Event(e) => events.push(e),
        PipelineOutput::Identity(i) => identities.push(i),
    };
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut batch: Vec<Decoded> = Vec::new();
    decoder.push(&ais, &mut batch);
    decoder.finish(&mut batch);
    for d in batch.drain(..) {
        pipeline.push(&d, &mut out);
    }
    pipeline.finish(&mut out);
    drop(pipeline);
    let mut store = Store::open(&dir).unwrap();
    let input = InputRecord {
        name: "sim".into(),
        content_hash: "x".into(),
        bytes: ais.len() as u64,
        messages: 1,
    };
    store
        .write_run("2026-01-01T00:00:00Z", &[input], &events, &identities)
        .unwrap();
    let vessels: Vec<_> = truth
        .iter()
        .filter_map(|r| match r {
            shadowfleet_simulate::truth::TruthRecord::Vessel(v) => Some(v.clone()),
            _ => None,
        })
        .collect();
    let p = shadowfleet_simulate::published::published(&vessels, 4);
    for (name, text) in [
        ("sanctions_eu.csv", &p.sanctions_eu),
        ("watchlist.csv", &p.watchlist),
        ("particulars.csv", &p.particulars),
    ] {
        let l = shadowfleet_refdata::parse(std::path::Path::new(name), text.as_bytes(), None, None)
            .unwrap();
        store.put_list(&l, "x", "2026-01-01T00:00:00Z").unwrap();
    }
    let analysis = Analysis::run(&store, AnalysisConfig::default()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Arc::new(AppState {
        analysis,
        report_html: "<html>report</html>".into(),
    })
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Value) {
    let resp = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let bytes = axum::body::to_bytes(resp.into_body(), 16 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    (status, body)
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
        "{found}"
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
    // Unknown and malformed ids.
    assert_eq!(
        get(&app, "/api/vessels/imo:1000000").await.0,
        StatusCode::NOT_FOUND
    );
    let (s, e) = get(&app, "/api/vessels/imo:12").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["error"], "bad_request");
    assert!(e["reason"].as_str().unwrap().contains("imo:NNNNNNN"));
    // The track: not stored yet, said so.
    assert_eq!(
        get(&app, &format!("/api/vessels/{id}/track")).await.0,
        StatusCode::NOT_IMPLEMENTED
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
    for e in baltic["events"].as_array().unwrap() {
        let (lat, lon) = (e["lat"].as_f64().unwrap(), e["lon"].as_f64().unwrap());
        assert!(
            (53.0..=66.0).contains(&lat) && (9.0..=31.0).contains(&lon),
            "{e}"
        );
    }
    for bad in [
        "/api/events?kind=party",
        "/api/events?bbox=1,2,3",
        "/api/events?bbox=10,60,5,50",
        "/api/events?from=yesterday",
        "/api/events?limit=0",
        &format!("/api/events?limit={}", MAX_PAGE + 1),
        "/api/events?offset=-1",
        "/api/events?colour=red",
        "/api/exposure?from=2026-13",
        "/api/exposure?from=2026-03&to=2026-01",
        "/api/flows?origin=RUS",
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
    ] {
        assert!(o["paths"].get(path).is_some(), "openapi without {path}");
    }
    // No write endpoint; unknown paths are JSON 404s.
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
