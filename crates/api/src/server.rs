//! The read-only HTTP API (`shadowfleet serve`). Every answer is JSON; bad parameters get a
//! 400 with `{"error": "bad_request", "reason": ...}`, unknown ids a 404, and list results
//! are paginated with capped page sizes. The OpenAPI description at `/api/openapi.json` is
//! generated from the handlers' annotations. See `docs/api.md`.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use shadowfleet_events::EventKind;
use shadowfleet_model::Timestamp;
use shadowfleet_voyages::VesselKey;
use utoipa::OpenApi;

use crate::analysis::Analysis;
use crate::views::{event_json, flow_json, flow_path, profile, resolve, vessel_json};

/// Largest page a list endpoint returns.
pub const MAX_PAGE: usize = 1000;
/// Page size when none is asked.
pub const DEFAULT_PAGE: usize = 100;
/// Largest request body accepted, bytes.
pub const MAX_BODY: usize = 1 << 20;

/// What the handlers share: the analysis of the store, computed once at start-up.
pub struct AppState {
    /// The analysis.
    pub analysis: Analysis,
    /// The HTML exposure report, served at `/report`.
    pub report_html: String,
}

/// An API error: status and reason, answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    reason: String,
}

impl ApiError {
    fn bad(reason: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    fn not_found(reason: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::NOT_FOUND => "not_found",
            _ => "error",
        };
        (
            self.status,
            Json(json!({"error": error, "reason": self.reason})),
        )
            .into_response()
    }
}

/// Query parameters, checked against the names an endpoint takes.
struct Params(Vec<(String, String)>);

impl Params {
    fn new(raw: Vec<(String, String)>, allowed: &[&str]) -> Result<Params, ApiError> {
        for (k, _) in &raw {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::bad(format!(
                    "unknown parameter {k:?}; this endpoint takes {}",
                    allowed.join(", ")
                )));
            }
        }
        Ok(Params(raw))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
        self.get(name)
            .map(|s| {
                Timestamp::parse_rfc3339(s)
                    .map(|t| t.unix_millis().div_euclid(1000))
                    .map_err(|e| {
                        ApiError::bad(format!("{name}: {s:?} is not an RFC 3339 time: {e}"))
                    })
            })
            .transpose()
    }

    fn month(&self, name: &str) -> Result<Option<String>, ApiError> {
        self.get(name)
            .map(|s| {
                if shadowfleet_risk::is_month(s) {
                    Ok(s.to_owned())
                } else {
                    Err(ApiError::bad(format!(
                        "{name}: {s:?} is not a month YYYY-MM"
                    )))
                }
            })
            .transpose()
    }

    /// `(limit, offset)` with the caps.
    fn page(&self) -> Result<(usize, usize), ApiError> {
        let num = |name: &str, default: usize| -> Result<usize, ApiError> {
            self.get(name).map_or(Ok(default), |s| {
                s.parse::<usize>().map_err(|_| {
                    ApiError::bad(format!("{name}: {s:?} is not a non-negative integer"))
                })
            })
        };
        let limit = num("limit", DEFAULT_PAGE)?;
        if limit == 0 || limit > MAX_PAGE {
            return Err(ApiError::bad(format!(
                "limit: {limit} is outside 1..={MAX_PAGE}"
            )));
        }
        Ok((limit, num("offset", 0)?))
    }
}

type Raw = Query<Vec<(String, String)>>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shadowfleet API",
        description = "Tankers of Russia's oil shadow fleet, their events, cargo flows and the countries that bought the oil, from AIS. Read-only."
    ),
    paths(vessels, vessel, track, events, flows, exposure, openapi)
)]
struct ApiDoc;

/// The router over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(index))
        .route(
            "/app.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    APP_JS,
                )
            }),
        )
        .route(
            "/vendor/maplibre-gl.js",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
                    MAPLIBRE_JS,
                )
            }),
        )
        .route(
            "/vendor/maplibre-gl.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    MAPLIBRE_CSS,
                )
            }),
        )
        .route("/map/land.geojson", get(land))
        .route("/report", get(report))
        .route("/api/vessels", get(vessels))
        .route("/api/vessels/{id}", get(vessel))
        .route("/api/vessels/{id}/track", get(track))
        .route("/api/events", get(events))
        .route("/api/flows", get(flows))
        .route("/api/exposure", get(exposure))
        .route("/api/openapi.json", get(openapi))
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/openapi.json") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Serves `state` on `listen` until interrupted.
pub async fn serve(state: Arc<AppState>, listen: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// The web map (`crates/api/web`): compiled in, nothing fetched from elsewhere.
const INDEX_HTML: &str = include_str!("../web/index.html");
const APP_JS: &str = include_str!("../web/app.js");
const MAPLIBRE_JS: &str = include_str!("../web/vendor/maplibre-gl.js");
const MAPLIBRE_CSS: &str = include_str!("../web/vendor/maplibre-gl.css");
/// Natural Earth 1:50m land, gzipped: the basemap.
const LAND_GZ: &[u8] = include_bytes!("../web/ne_50m_land.geojson.gz");

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn land() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/geo+json"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        LAND_GZ,
    )
        .into_response()
}

async fn report(State(s): State<Arc<AppState>>) -> Html<String> {
    Html(s.report_html.clone())
}

/// Search vessels by name (current or former), IMO number or MMSI; without `q`, the
/// highest-risk tankers first.
#[utoipa::path(get, path = "/api/vessels",
    params(
        ("q" = Option<String>, Query, description = "name (part of, current or former), IMO number or MMSI"),
        ("limit" = Option<usize>, Query, description = "page size, 1..=1000, default 100"),
        ("offset" = Option<usize>, Query, description = "first result, default 0"),
    ),
    responses((status = 200, description = "`{total, offset, limit, vessels: [{vessel, mmsis, names, score, shadow}]}`"), (status = 400, description = "bad parameter")))]
async fn vessels(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Json<Value>, ApiError> {
    let p = Params::new(raw, &["q", "limit", "offset"])?;
    let (limit, offset) = p.page()?;
    let a = &s.analysis;
    let q = p.get("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.len() > 100) {
        return Err(ApiError::bad("q: longer than 100 characters"));
    }
    let norm = q.map(shadowfleet_risk::normalise_name);
    let hits: Vec<&shadowfleet_risk::VesselRisk> = a
        .risks
        .iter()
        .filter(|r| match (q, &norm) {
            (None, _) => true,
            (Some(q), Some(n)) => {
                let id = match r.vessel {
                    VesselKey::Imo(i) => i.to_string() == q,
                    VesselKey::Mmsi(_) => false,
                };
                id || r.mmsis.iter().any(|m| m.to_string() == q)
                    || (!n.is_empty()
                        && r.names
                            .iter()
                            .any(|x| shadowfleet_risk::normalise_name(x).contains(n.as_str())))
            }
            _ => false,
        })
        .collect();
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| json!({"vessel": vessel_json(r.vessel), "id": key_id(r.vessel), "mmsis": r.mmsis, "names": r.names, "score": r.score, "shadow": r.score >= a.config.risk.shadow_threshold}))
        .collect();
    Ok(Json(
        json!({"total": hits.len(), "offset": offset, "limit": limit, "vessels": page}),
    ))
}

/// `imo:9229879` or `mmsi:613203686`: the id the vessel endpoints take.
fn key_id(k: VesselKey) -> String {
    match k {
        VesselKey::Imo(i) => format!("imo:{i}"),
        VesselKey::Mmsi(m) => format!("mmsi:{m}"),
    }
}

/// The vessel `id` names: `imo:N`, `mmsi:N`, or a bare IMO (7 digits) or MMSI (9 digits).
fn find(a: &Analysis, id: &str) -> Result<(VesselKey, Vec<u32>), ApiError> {
    let q = id
        .strip_prefix("imo:")
        .or_else(|| id.strip_prefix("mmsi:"))
        .unwrap_or(id);
    if !q.bytes().all(|b| b.is_ascii_digit())
        || !(q.len() == 7 || q.len() == 9)
        || (id.starts_with("imo:") && q.len() != 7)
        || (id.starts_with("mmsi:") && q.len() != 9)
    {
        return Err(ApiError::bad(format!(
            "id: {id:?} is not imo:NNNNNNN, mmsi:NNNNNNNNN, an IMO number or an MMSI"
        )));
    }
    resolve(a, q)
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("no vessel {id}")))
}

/// A vessel's profile: identity timeline, list matches, risk score with the evidence behind
/// each indicator, voyages.
#[utoipa::path(get, path = "/api/vessels/{id}",
    params(("id" = String, Path, description = "imo:N, mmsi:N, or a bare IMO number or MMSI")),
    responses((status = 200, description = "the profile, as `shadowfleet vessel --format json`"), (status = 400, description = "malformed id"), (status = 404, description = "unknown vessel")))]
async fn vessel(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(raw): Raw,
) -> Result<Json<Value>, ApiError> {
    Params::new(raw, &[])?;
    let (k, mmsis) = find(&s.analysis, &id)?;
    Ok(Json(profile(&s.analysis, k, &mmsis)))
}

/// A vessel's track as GeoJSON. Positions are not stored yet (GeoParquet comes next): the
/// answer is 501 for a known vessel.
#[utoipa::path(get, path = "/api/vessels/{id}/track",
    params(("id" = String, Path, description = "as for /api/vessels/{id}"), ("from" = Option<String>, Query, description = "RFC 3339"), ("to" = Option<String>, Query, description = "RFC 3339")),
    responses((status = 501, description = "positions are not stored yet"), (status = 400, description = "bad parameter"), (status = 404, description = "unknown vessel")))]
async fn track(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    let p = Params::new(raw, &["from", "to"])?;
    p.time("from")?;
    p.time("to")?;
    find(&s.analysis, &id)?;
    Ok((StatusCode::NOT_IMPLEMENTED, Json(json!({"error": "not_implemented", "reason": "positions are not stored yet; the track endpoint comes with the GeoParquet position store"}))).into_response())
}

/// Events, filtered by kind, bounding box and time, oldest first.
#[utoipa::path(get, path = "/api/events",
    params(
        ("kind" = Option<String>, Query, description = "gap, encounter, loitering, port_call, spoofing or identity_change"),
        ("bbox" = Option<String>, Query, description = "min_lon,min_lat,max_lon,max_lat (WGS84 degrees)"),
        ("from" = Option<String>, Query, description = "events ending at or after (RFC 3339)"),
        ("to" = Option<String>, Query, description = "events starting at or before (RFC 3339)"),
        ("mmsi" = Option<u32>, Query, description = "either vessel of the event"),
        ("limit" = Option<usize>, Query, description = "page size, 1..=1000, default 100"),
        ("offset" = Option<usize>, Query, description = "first result, default 0"),
    ),
    responses((status = 200, description = "`{total, offset, limit, events: [...]}`, each event as `shadowfleet events`"), (status = 400, description = "bad parameter")))]
async fn events(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Json<Value>, ApiError> {
    let p = Params::new(
        raw,
        &["kind", "bbox", "from", "to", "mmsi", "limit", "offset"],
    )?;
    let (limit, offset) = p.page()?;
    let kind = p
        .get("kind")
        .map(|k| EventKind::parse(k).ok_or_else(|| ApiError::bad(format!("kind: {k:?} is not one of gap, encounter, loitering, port_call, spoofing, identity_change"))))
        .transpose()?;
    let bbox = p.get("bbox").map(parse_bbox).transpose()?;
    let (from, to) = (p.time("from")?, p.time("to")?);
    let mmsi = p
        .get("mmsi")
        .map(|m| {
            m.parse::<u32>()
                .map_err(|_| ApiError::bad(format!("mmsi: {m:?} is not a number")))
        })
        .transpose()?;
    let hits: Vec<&shadowfleet_store::StoredEvent> = s
        .analysis
        .events
        .iter()
        .filter(|e| {
            let ev = &e.event;
            kind.is_none_or(|k| ev.kind == k)
                && from.is_none_or(|f| ev.end >= f)
                && to.is_none_or(|t| ev.start <= t)
                && mmsi.is_none_or(|m| ev.mmsi == m || ev.other_mmsi == Some(m))
                && bbox.is_none_or(|b: [f64; 4]| {
                    ev.lon >= b[0] && ev.lat >= b[1] && ev.lon <= b[2] && ev.lat <= b[3]
                })
        })
        .collect();
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| event_json(e))
        .collect();
    Ok(Json(
        json!({"total": hits.len(), "offset": offset, "limit": limit, "events": page}),
    ))
}

fn parse_bbox(s: &str) -> Result<[f64; 4], ApiError> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::bad(format!("bbox: {s:?} is not four numbers")))?;
    let [w, so, e, n] = v[..] else {
        return Err(ApiError::bad(format!(
            "bbox: {s:?} is not four numbers min_lon,min_lat,max_lon,max_lat"
        )));
    };
    if !(-180.0..=180.0).contains(&w)
        || !(-180.0..=180.0).contains(&e)
        || !(-90.0..=90.0).contains(&so)
        || !(-90.0..=90.0).contains(&n)
        || w > e
        || so > n
    {
        return Err(ApiError::bad(format!(
            "bbox: {s:?} is not min_lon,min_lat,max_lon,max_lat within ±180, ±90"
        )));
    }
    Ok([w, so, e, n])
}

/// Cargo flows: origin, chain of ships, discharge, volume, confidence, evidence.
#[utoipa::path(get, path = "/api/flows",
    params(
        ("origin" = Option<String>, Query, description = "origin country of the oil, ISO alpha-2"),
        ("country" = Option<String>, Query, description = "discharge country, ISO alpha-2"),
        ("limit" = Option<usize>, Query, description = "page size, 1..=1000, default 100"),
        ("offset" = Option<usize>, Query, description = "first result, default 0"),
    ),
    responses((status = 200, description = "`{total, offset, limit, flows: [...]}`, each flow as `shadowfleet flows` plus `path`: [lon, lat] of its load, hand-offs and discharge"), (status = 400, description = "bad parameter")))]
async fn flows(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Json<Value>, ApiError> {
    let p = Params::new(raw, &["origin", "country", "limit", "offset"])?;
    let (limit, offset) = p.page()?;
    for name in ["origin", "country"] {
        if let Some(c) = p.get(name) {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                return Err(ApiError::bad(format!(
                    "{name}: {c:?} is not an ISO alpha-2 country code"
                )));
            }
        }
    }
    let t = &s.analysis.traced;
    let at: std::collections::HashMap<i64, [f64; 2]> = s
        .analysis
        .events
        .iter()
        .filter(|e| e.event.lat.is_finite() && e.event.lon.is_finite())
        .map(|e| (e.id, [e.event.lon, e.event.lat]))
        .collect();
    let hits: Vec<Value> = t
        .flows
        .iter()
        .filter(|f| f.share > 0.0)
        .filter_map(|f| t.cargoes.get(f.cargo).map(|c| (f, c)))
        .filter(|(f, c)| {
            p.get("origin").is_none_or(|o| {
                c.origin
                    .as_ref()
                    .is_some_and(|x| x.country.eq_ignore_ascii_case(o))
            }) && p.get("country").is_none_or(|o| {
                f.discharge
                    .as_ref()
                    .is_some_and(|d| d.country.eq_ignore_ascii_case(o))
            })
        })
        .map(|(f, c)| {
            let path = flow_path(f, c, &|id| at.get(&id).copied());
            let mut j = flow_json(f, c);
            j["path"] = json!(path);
            j
        })
        .collect();
    let total = hits.len();
    let page: Vec<Value> = hits.into_iter().skip(offset).take(limit).collect();
    Ok(Json(
        json!({"total": total, "offset": offset, "limit": limit, "flows": page}),
    ))
}

/// Oil of the configured origin (default RU) received per country and month.
#[utoipa::path(get, path = "/api/exposure",
    params(("from" = Option<String>, Query, description = "first month YYYY-MM"), ("to" = Option<String>, Query, description = "last month YYYY-MM")),
    responses((status = 200, description = "`{origins, rows: [{country, month, cargoes, volume_bbl, volume_t, via_sts_share, shadow_share, low_bbl, high_bbl, value_usd, price_usd_per_bbl}]}`"), (status = 400, description = "bad parameter")))]
async fn exposure(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<Value>, ApiError> {
    let p = Params::new(raw, &["from", "to"])?;
    let (from, to) = (p.month("from")?, p.month("to")?);
    if let (Some(f), Some(t)) = (&from, &to) {
        if f > t {
            return Err(ApiError::bad(format!("from {f} is after to {t}")));
        }
    }
    let rows = s.analysis.exposure(from.as_deref(), to.as_deref());
    Ok(Json(
        json!({"origins": s.analysis.config.exposure.origins, "from": from, "to": to, "rows": rows}),
    ))
}

/// This API's OpenAPI 3 description.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "OpenAPI 3.1 JSON")))]
async fn openapi() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            reason: e.to_string(),
        }
        .into_response(),
    }
}
