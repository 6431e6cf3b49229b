//! The read-only HTTP API (`shadowfleet serve`). Every answer is JSON; bad parameters get a
//! 400 with `{"error": "bad_request", "reason": ...}`, unknown ids a 404, and list results
//! are paginated with capped page sizes. The OpenAPI description at `/api/openapi.json` is
//! generated from the handlers' annotations. See `docs/api.md`.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use shadowfleet_model::Timestamp;
use shadowfleet_records::{ConfidenceLevel, EventKind};
use shadowfleet_run::DetectorConfig;
use shadowfleet_store::Store;
use shadowfleet_voyages::VesselKey;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::views::{
    flow_path, profile, resolve, EventPage, EventView, ExposureAnswer, FlowPage, FlowView, Profile,
    VesselPage, VesselSummary,
};
use shadowfleet_run::analysis::{Analysis, AnalysisConfig};

/// Largest page a list endpoint returns.
pub const MAX_PAGE: usize = 1000;
/// Page size when none is asked.
pub const DEFAULT_PAGE: usize = 100;
/// Largest request body accepted, bytes.
pub const MAX_BODY: usize = 1 << 20;

/// Largest NMEA body `POST /api/ingest` accepts, bytes.
pub const MAX_INGEST_BODY: usize = 64 << 20;
/// Most vertices a track answer holds.
pub const MAX_TRACK_VERTICES: usize = 200_000;
/// Shortest API key accepted.
pub const MIN_API_KEY_LEN: usize = 16;

/// What the handlers read: the analysis of the store and its HTML report, replaced whole
/// after each ingest.
pub struct Snapshot {
    /// The analysis.
    pub analysis: Analysis,
    /// The HTML exposure report, served at `/report`.
    pub report_html: String,
    /// Map layers drawn from this analysis (sea-routed flows and gaps, activity cells), by
    /// request; at most [`MAX_DRAWINGS`], emptied when full.
    drawings: Mutex<std::collections::HashMap<String, Arc<serde_json::Value>>>,
    /// The data's span, lists and sources (`/api/about`).
    pub about: crate::views::About,
    /// The ceasefire monitor's report on this analysis, made at the first request.
    pub(crate) ceasefire: std::sync::OnceLock<Arc<crate::ceasefire::Monitored>>,
}

/// Most map layers a snapshot keeps drawn.
pub const MAX_DRAWINGS: usize = 64;

impl Snapshot {
    /// Analyses the store's content.
    pub fn of(store: &Store, config: AnalysisConfig) -> anyhow::Result<Snapshot> {
        let analysis = Analysis::run(store, config)?;
        let rows = analysis.exposure(None, None);
        let report_html = crate::report::html(&analysis, &rows, None, None);
        let lists = store
            .lists()?
            .into_iter()
            .map(|l| crate::views::AboutList {
                name: l.name,
                kind: l.list.kind,
                entries: l.list.entries.len(),
                loaded_at: l.loaded_at,
            })
            .collect();
        let about = crate::views::About::of(&analysis, lists);
        Ok(Snapshot {
            analysis,
            report_html,
            about,
            drawings: Mutex::new(std::collections::HashMap::new()),
            ceasefire: std::sync::OnceLock::new(),
        })
    }

    fn drawn(&self, key: &str) -> Option<Arc<serde_json::Value>> {
        let g = self.drawings.lock().unwrap_or_else(|p| p.into_inner());
        g.get(key).cloned()
    }

    fn keep_drawn(&self, key: String, v: Arc<serde_json::Value>) {
        let mut g = self.drawings.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() >= MAX_DRAWINGS {
            g.clear();
        }
        g.insert(key, v);
    }
}

/// What the handlers share.
pub struct AppState {
    dir: PathBuf,
    store: Mutex<Store>,
    snapshot: RwLock<Arc<Snapshot>>,
    api_key: Option<String>,
    detectors: DetectorConfig,
    ingest_lock: tokio::sync::Mutex<()>,
    clock: fn() -> i64,
    evidence_inputs: Vec<PathBuf>,
    /// The last packs built (event id, zip), newest last; emptied when a run adds data.
    packs: Mutex<VecDeque<(i64, Arc<Vec<u8>>)>>,
    /// One pack is built at a time (each reads the run's inputs whole).
    pack_lock: tokio::sync::Mutex<()>,
    /// The latest positions `watch --serve` hands over after each checkpoint.
    live: RwLock<Arc<LiveView>>,
}

/// The live layer: each vessel's latest position at the last checkpoint of `watch`.
#[derive(Debug, Clone, Default)]
pub struct LiveView {
    /// Bumped at each update (0: no live feed in this process).
    pub seq: u64,
    /// Latest positions.
    pub positions: Vec<shadowfleet_run::watch::LivePosition>,
}

/// Evidence packs kept in memory by the server.
const CACHED_PACKS: usize = 16;

impl AppState {
    /// Opens the store in `dir` and analyses it. Writes (`POST /api/ingest`) are enabled
    /// only with an `api_key` (at least [`MIN_API_KEY_LEN`] characters); `clock` gives the
    /// wall-clock time recorded for an ingest run.
    pub fn open(
        dir: &std::path::Path,
        config: AnalysisConfig,
        detectors: DetectorConfig,
        api_key: Option<String>,
        clock: fn() -> i64,
    ) -> anyhow::Result<AppState> {
        if let Some(k) = &api_key {
            if k.chars().count() < MIN_API_KEY_LEN || k.chars().any(char::is_whitespace) {
                anyhow::bail!(
                    "the API key must be at least {MIN_API_KEY_LEN} characters without spaces"
                );
            }
        }
        let store = Store::open_existing(dir)?;
        let snapshot = Snapshot::of(&store, config)?;
        Ok(AppState {
            dir: dir.to_owned(),
            store: Mutex::new(store),
            snapshot: RwLock::new(Arc::new(snapshot)),
            api_key,
            detectors,
            ingest_lock: tokio::sync::Mutex::new(()),
            clock,
            evidence_inputs: Vec::new(),
            packs: Mutex::new(VecDeque::new()),
            pack_lock: tokio::sync::Mutex::new(()),
            live: RwLock::new(Arc::new(LiveView::default())),
        })
    }

    /// Replaces the live layer's positions (`watch --serve`, after each checkpoint).
    pub fn set_live(&self, positions: Vec<shadowfleet_run::watch::LivePosition>) {
        let mut g = self.live.write().unwrap_or_else(|p| p.into_inner());
        let seq = g.seq + 1;
        *g = Arc::new(LiveView { seq, positions });
    }

    fn live(&self) -> Arc<LiveView> {
        Arc::clone(&self.live.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// Directories where evidence packs look for the runs' inputs by file name, when they
    /// are no longer where the runs read them (`serve --inputs`).
    pub fn with_evidence_inputs(mut self, dirs: Vec<PathBuf>) -> AppState {
        self.evidence_inputs = dirs;
        self
    }

    /// The current analysis.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn with_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        match self.store.lock() {
            Ok(g) => f(&g),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    fn cached_pack(&self, id: i64) -> Option<Arc<Vec<u8>>> {
        let packs = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        packs
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, b)| Arc::clone(b))
    }

    fn keep_pack(&self, id: i64, bytes: Arc<Vec<u8>>) {
        let mut packs = self.packs.lock().unwrap_or_else(|p| p.into_inner());
        packs.retain(|(i, _)| *i != id);
        packs.push_back((id, bytes));
        while packs.len() > CACHED_PACKS {
            packs.pop_front();
        }
    }

    /// Analyses the store again (`watch --serve` calls it after each checkpoint); requests
    /// go on being answered from the previous analysis meanwhile.
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = self.snapshot().analysis.config.clone();
        let fresh = self.with_store(|st| Snapshot::of(st, config))?;
        match self.snapshot.write() {
            Ok(mut g) => *g = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        self.packs.lock().unwrap_or_else(|p| p.into_inner()).clear();
        Ok(())
    }

    /// Whether writes are enabled.
    pub fn writable(&self) -> bool {
        self.api_key.is_some()
    }
}

/// An API error: status and reason, answered as JSON.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    reason: String,
}

impl ApiError {
    pub(crate) fn bad(reason: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            reason: reason.into(),
        }
    }

    pub(crate) fn not_found(reason: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::NOT_FOUND,
            reason: reason.into(),
        }
    }

    fn with(status: StatusCode, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            reason: reason.into(),
        }
    }

    pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
        ApiError::with(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

/// The body of every error answer.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct ErrorBody {
    /// `bad_request`, `not_found`, `unauthorized`, `forbidden`, `conflict`, `too_large` or
    /// `error`.
    pub error: String,
    /// What was wrong, naming the parameter.
    pub reason: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = match self.status {
            StatusCode::BAD_REQUEST => "bad_request",
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::UNAUTHORIZED => "unauthorized",
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::CONFLICT => "conflict",
            StatusCode::PAYLOAD_TOO_LARGE => "too_large",
            StatusCode::UNPROCESSABLE_ENTITY => "unprocessable",
            _ => "error",
        };
        (
            self.status,
            Json(ErrorBody {
                error: error.to_owned(),
                reason: self.reason,
            }),
        )
            .into_response()
    }
}

/// Query parameters, checked against the names an endpoint takes.
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn new(raw: Vec<(String, String)>, allowed: &[&str]) -> Result<Params, ApiError> {
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

    /// The value of `name` as given (an empty value is a value, checked like any other).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn time(&self, name: &str) -> Result<Option<i64>, ApiError> {
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

    /// An integer within `range`, when given.
    fn small_int(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u8>,
    ) -> Result<Option<u8>, ApiError> {
        self.get(name)
            .map(|z| {
                z.parse::<u8>()
                    .ok()
                    .filter(|z| range.contains(z))
                    .ok_or_else(|| {
                        ApiError::bad(format!(
                            "{name}: {z:?} is not an integer {}..={}",
                            range.start(),
                            range.end()
                        ))
                    })
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
        let offset = num("offset", 0)?;
        if offset > i32::MAX as usize {
            return Err(ApiError::bad(format!(
                "offset: {offset} is above {}",
                i32::MAX
            )));
        }
        if limit == 0 || limit > MAX_PAGE {
            return Err(ApiError::bad(format!(
                "limit: {limit} is outside 1..={MAX_PAGE}"
            )));
        }
        Ok((limit, offset))
    }
}

pub(crate) type Raw = Query<Vec<(String, String)>>;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shadowfleet API",
        description = "Tankers of Russia's oil shadow fleet, their events, cargo flows and the countries that bought the oil, from AIS. Read-only but for POST /api/ingest, which needs the API key the server was started with."
    ),
    paths(
        vessels,
        vessel,
        track,
        events,
        event_evidence,
        flows,
        exposure,
        map_flows,
        map_gaps,
        map_activity,
        alerts,
        alerts_stream,
        feeds,
        live,
        live_stream,
        crate::ceasefire::weekly,
        crate::ceasefire::incidents,
        crate::ceasefire::clusters,
        ingest,
        openapi
    )
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
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .route("/report", get(report))
        .route("/api/vessels", get(vessels))
        .route("/api/vessels/{id}", get(vessel))
        .route("/api/vessels/{id}/track", get(track))
        .route("/api/events", get(events))
        .route("/api/events/{id}/evidence", get(event_evidence))
        .route("/api/flows", get(flows))
        .route("/api/exposure", get(exposure))
        .route("/api/about", get(about))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/stream", get(alerts_stream))
        .route("/api/feeds", get(feeds))
        .route("/api/live", get(live))
        .route("/api/live/stream", get(live_stream))
        .route("/api/ceasefire/weekly", get(crate::ceasefire::weekly))
        .route("/api/ceasefire/incidents", get(crate::ceasefire::incidents))
        .route("/api/ceasefire/clusters", get(crate::ceasefire::clusters))
        .route("/ceasefire", get(crate::ceasefire::page))
        .route("/api/map/flows", get(map_flows))
        .route("/api/map/gaps", get(map_gaps))
        .route("/api/map/activity", get(map_activity))
        .route("/api/openapi.json", get(openapi))
        .route(
            "/api/ingest",
            post(ingest).layer(DefaultBodyLimit::max(MAX_INGEST_BODY)),
        )
        .fallback(|| async { ApiError::not_found("no such endpoint; see /api/openapi.json") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // gzip or brotli as the client asks (`Accept-Encoding`), for every response but the
        // tiny ones and those already compressed (the land layer).
        .layer(tower_http::compression::CompressionLayer::new())
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
/// The page's icon (browsers ask for one; without it every page load logged a 404).
const FAVICON_SVG: &str = include_str!("../web/favicon.svg");
/// Natural Earth 1:50m land, gzipped: the basemap.
const LAND_GZ: &[u8] = include_bytes!("../web/ne_50m_land.geojson.gz");

async fn index() -> Html<&'static str> {
    Html(INDEX_HTML)
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        FAVICON_SVG,
    )
        .into_response()
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
    Html(s.snapshot().report_html.clone())
}

// The query parameters of each endpoint, for the OpenAPI description. The handlers read the
// raw query (to reject unknown parameters by name) with the same rules.

/// Paging.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct PageQuery {
    /// Page size, default 100.
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
    /// First result, default 0.
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<usize>,
}

/// `/api/vessels`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct VesselsQuery {
    /// Name (part of, current or former), IMO number or MMSI.
    #[param(max_length = 100)]
    q: Option<String>,
}

/// `/api/vessels/{id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "describes the path for OpenAPI; read by find")]
struct VesselPath {
    /// `imo:N`, `mmsi:N`, or a bare IMO number (7 digits) or MMSI (9 digits).
    #[param(pattern = r"^((imo:)?[0-9]{7}|(mmsi:)?[0-9]{9})$")]
    id: String,
}

/// `/api/vessels/{id}/track`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct TrackQuery {
    /// From this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Until this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Map zoom: vertices closer than about a pixel at that zoom to the simplified line are
    /// dropped; full resolution when absent.
    #[param(minimum = 0, maximum = 22)]
    zoom: Option<u8>,
}

/// `/api/events`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct EventsQuery {
    /// Only this kind.
    kind: Option<EventKind>,
    /// `west,south,east,north` (WGS84 degrees): longitudes within ±180, latitudes within
    /// ±90. West beyond east is a box across the antimeridian; south beyond north is empty.
    #[param(
        pattern = r"^-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?),-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?),-?(180(\.0+)?|(1[0-7][0-9]|[1-9]?[0-9])(\.[0-9]+)?),-?(90(\.0+)?|[1-8]?[0-9](\.[0-9]+)?)$"
    )]
    bbox: Option<String>,
    /// Events ending at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Events starting at or before this instant (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
    /// Either vessel of the event (nine digits at most).
    #[param(minimum = 1, maximum = 999_999_999)]
    mmsi: Option<u32>,
    /// Only events of at least this confidence (default `medium`; `low` is everything).
    min_confidence: Option<ConfidenceLevel>,
}

/// `/api/flows`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct FlowsQuery {
    /// Origin country of the oil, ISO alpha-2.
    #[param(pattern = "^[A-Za-z]{2}$")]
    origin: Option<String>,
    /// Discharge country, ISO alpha-2.
    #[param(pattern = "^[A-Za-z]{2}$")]
    country: Option<String>,
}

/// `/api/exposure`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct ExposureQuery {
    /// First month, `YYYY-MM`.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    from: Option<String>,
    /// Last month, `YYYY-MM`.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    to: Option<String>,
}

/// Search vessels by name (current or former), IMO number or MMSI; without `q`, the
/// highest-risk tankers first.
#[utoipa::path(get, path = "/api/vessels",
    params(VesselsQuery, PageQuery),
    responses((status = 200, description = "a page of vessels", body = VesselPage), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn vessels(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<VesselPage>, ApiError> {
    let p = Params::new(raw, &["q", "limit", "offset"])?;
    let (limit, offset) = p.page()?;
    let snap = s.snapshot();
    let a = &snap.analysis;
    let q = p.get("q").map(str::trim).filter(|q| !q.is_empty());
    if q.is_some_and(|q| q.len() > 100) {
        return Err(ApiError::bad("q: longer than 100 characters"));
    }
    // Names (current and former) through the FTS5 index, word prefixes; IMO and MMSI exact.
    let named: Vec<(u32, Option<u32>)> = match q {
        Some(q) => s
            .with_store(|st| st.search_names(q, 10_000))
            .map_err(ApiError::internal)?,
        None => Vec::new(),
    };
    let hits: Vec<&shadowfleet_risk::VesselRisk> = a
        .risks
        .iter()
        .filter(|r| match q {
            None => true,
            Some(q) => {
                let id = match r.vessel {
                    VesselKey::Imo(i) => i.to_string() == q,
                    VesselKey::Mmsi(_) => false,
                };
                id || r.mmsis.iter().any(|m| m.to_string() == q)
                    || named.iter().any(|&(m, imo)| match r.vessel {
                        VesselKey::Imo(i) => imo == Some(i),
                        VesselKey::Mmsi(v) => v == m,
                    })
            }
        })
        .collect();
    let vessels = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|r| VesselSummary {
            vessel: r.vessel.into(),
            id: r.vessel.id(),
            mmsis: r.mmsis.clone(),
            names: r.names.clone(),
            score: r.score,
            shadow: r.score >= a.config.risk.shadow_threshold,
        })
        .collect();
    Ok(Json(VesselPage {
        total: hits.len(),
        offset,
        limit,
        vessels,
    }))
}

/// `imo:9229879` or `mmsi:613203686`: the id the vessel endpoints take.
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
    params(VesselPath),
    responses((status = 200, description = "the profile, as `shadowfleet vessel --format json`", body = Profile), (status = 400, description = "malformed id", body = ErrorBody), (status = 404, description = "unknown vessel", body = ErrorBody)))]
async fn vessel(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(raw): Raw,
) -> Result<Json<Profile>, ApiError> {
    Params::new(raw, &[])?;
    let snap = s.snapshot();
    let (k, mmsis) = find(&snap.analysis, &id)?;
    Ok(Json(profile(&snap.analysis, k, &mmsis)))
}

/// A vessel's track as GeoJSON from the position store: one LineString per track segment
/// with each vertex's time (unix seconds) in `properties.times`, simplified for `zoom`.
#[utoipa::path(get, path = "/api/vessels/{id}/track",
    params(VesselPath, TrackQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection `{vessel, from, to, zoom, positions, vertices, start, end, features: [{geometry: LineString, properties: {mmsi, segment, start, end, points, times}}]}`", content_type = "application/geo+json", body = Object), (status = 400, description = "bad parameter, or more than 200 000 vertices", body = ErrorBody), (status = 404, description = "unknown vessel", body = ErrorBody)))]
async fn track(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    let p = Params::new(raw, &["from", "to", "zoom"])?;
    let (from, to) = (p.time("from")?, p.time("to")?);
    // From after to is an empty interval: no positions (not an error).
    let zoom = p.small_int("zoom", 0..=22)?;
    let snap = s.snapshot();
    let (k, mmsis) = find(&snap.analysis, &id)?;
    let owned = crate::tracks::ownership(k, &mmsis, &snap.analysis.identities);
    // The manifest under the store's lock; the files without it.
    let query = crate::tracks::track_query(&owned, from, to);
    let files = s
        .with_store(|st| st.position_files(&query))
        .map_err(ApiError::internal)?;
    let answer = tokio::task::spawn_blocking(move || {
        crate::tracks::track_geojson(&files, k, &owned, from, to, zoom, MAX_TRACK_VERTICES)
    })
    .await
    .map_err(ApiError::internal)?;
    match answer {
        Ok(v) => Ok(([(header::CONTENT_TYPE, "application/geo+json")], Json(v)).into_response()),
        Err(e @ crate::tracks::TrackError::TooLarge { .. }) => Err(ApiError::bad(e.to_string())),
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// `/api/events/{id}/evidence`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "describes the path for OpenAPI")]
struct EventPath {
    /// The event's id.
    #[param(minimum = 1)]
    id: i64,
}

/// The evidence pack of one event, a zip as `shadowfleet evidence --event ID` writes it (see
/// docs/formats.md, "Evidence packs"): the raw input lines behind it with their hashes and
/// offsets, decoded values, track and map, the detector configuration, list matches as of
/// the day, identities, imagery links and a summary. Check it with `shadowfleet verify`.
#[utoipa::path(get, path = "/api/events/{id}/evidence",
    params(EventPath),
    responses(
        (status = 200, description = "the pack", content_type = "application/zip", body = ZipBytes),
        (status = 400, description = "malformed id", body = ErrorBody),
        (status = 404, description = "unknown event", body = ErrorBody),
        (status = 422, description = "the pack cannot be made: the run's input is gone or changed, or the run predates store schema 5", body = ErrorBody)))]
async fn event_evidence(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    Params::new(raw, &[])?;
    let id: i64 = id.parse().ok().filter(|i| *i > 0).ok_or_else(|| {
        ApiError::bad(format!(
            "id: {id:?} is not an event id (a positive integer)"
        ))
    })?;
    let exists = s
        .with_store(|st| st.event(id))
        .map_err(ApiError::internal)?
        .is_some();
    if !exists {
        return Err(ApiError::not_found(format!("no event {id}")));
    }
    let _one_at_a_time = s.pack_lock.lock().await;
    if let Some(bytes) = s.cached_pack(id) {
        return Ok(zip_response(id, bytes.as_ref().clone()));
    }
    let snap = s.snapshot();
    let (dir, inputs, created_at) = (s.dir.clone(), s.evidence_inputs.clone(), (s.clock)());
    let built = tokio::task::spawn_blocking(move || -> anyhow::Result<Vec<u8>> {
        // A connection of its own: building reads inputs for seconds.
        let store = Store::open_existing(&dir)?;
        let options = shadowfleet_run::evidence::PackOptions {
            input_dirs: inputs,
            created_at,
            ..Default::default()
        };
        shadowfleet_run::evidence::Pack::build(
            &store,
            &snap.analysis,
            &shadowfleet_run::evidence::Target::Event(id),
            &options,
        )?
        .to_zip_bytes()
    })
    .await
    .map_err(ApiError::internal)?;
    match built {
        Ok(bytes) => {
            s.keep_pack(id, Arc::new(bytes.clone()));
            Ok(zip_response(id, bytes))
        }
        Err(e) => Err(ApiError::with(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{e:#}"),
        )),
    }
}

fn zip_response(id: i64, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"shadowfleet-event-{id}.zip\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

/// Events, filtered by kind, bounding box and time, oldest first.
#[utoipa::path(get, path = "/api/events",
    params(EventsQuery, PageQuery),
    responses((status = 200, description = "a page of events, each as `shadowfleet events`", body = EventPage), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn events(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<EventPage>, ApiError> {
    let p = Params::new(
        raw,
        &[
            "kind",
            "bbox",
            "from",
            "to",
            "mmsi",
            "min_confidence",
            "limit",
            "offset",
        ],
    )?;
    let min_confidence = match p.get("min_confidence") {
        None => ConfidenceLevel::Medium,
        Some(c) => ConfidenceLevel::parse(c).ok_or_else(|| {
            ApiError::bad(format!(
                "min_confidence: {c:?} is not one of low, medium, high"
            ))
        })?,
    };
    let (limit, offset) = p.page()?;
    let kind = p
        .get("kind")
        .map(|k| {
            EventKind::parse(k).ok_or_else(|| {
                let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                ApiError::bad(format!("kind: {k:?} is not one of {}", kinds.join(", ")))
            })
        })
        .transpose()?;
    let bbox = p.get("bbox").map(parse_bbox).transpose()?;
    let (from, to) = (p.time("from")?, p.time("to")?);
    let mmsi = p
        .get("mmsi")
        .map(|m| {
            m.parse::<u32>()
                .ok()
                .filter(|m| (1..=999_999_999).contains(m))
                .ok_or_else(|| ApiError::bad(format!("mmsi: {m:?} is not an MMSI 1..=999999999")))
        })
        .transpose()?;
    // The bounding box through the R*Tree (an event's position, and for a gap where the
    // signal came back too). West beyond east is a box across the antimeridian (RFC 7946
    // section 5.2): the two boxes either side. South beyond north is an empty box.
    let inside = bbox
        .map(|[w, so, e, n]| {
            if so > n {
                return Ok(std::collections::HashSet::new());
            }
            s.with_store(|st| {
                if w <= e {
                    st.events_in_bbox([w, so, e, n])
                } else {
                    let mut ids = st.events_in_bbox([w, so, 180.0, n])?;
                    ids.extend(st.events_in_bbox([-180.0, so, e, n])?);
                    Ok(ids)
                }
            })
        })
        .transpose()
        .map_err(ApiError::internal)?;
    let snap = s.snapshot();
    let hits: Vec<&shadowfleet_store::StoredEvent> = snap
        .analysis
        .events
        .iter()
        .filter(|e| {
            let ev = &e.event;
            kind.is_none_or(|k| ev.kind() == k)
                && ev.confidence.level >= min_confidence
                && from.is_none_or(|f| ev.end >= f)
                && to.is_none_or(|t| ev.start <= t)
                && mmsi.is_none_or(|m| ev.mmsi == m || ev.other_mmsi == Some(m))
                && inside.as_ref().is_none_or(|ids| ids.contains(&e.id))
        })
        .collect();
    let events = hits
        .iter()
        .skip(offset)
        .take(limit)
        .map(|e| EventView::of(e))
        .collect();
    Ok(Json(EventPage {
        total: hits.len(),
        offset,
        limit,
        events,
    }))
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
    {
        return Err(ApiError::bad(format!(
            "bbox: {s:?} is not min_lon,min_lat,max_lon,max_lat within ±180, ±90"
        )));
    }
    Ok([w, so, e, n])
}

/// Cargo flows: origin, chain of ships, discharge, volume, confidence, evidence.
#[utoipa::path(get, path = "/api/flows",
    params(FlowsQuery, PageQuery),
    responses((status = 200, description = "a page of flows, each as `shadowfleet flows` plus `path`: [lon, lat] of its load, hand-offs and discharge", body = FlowPage), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn flows(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<FlowPage>, ApiError> {
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
    let snap = s.snapshot();
    let t = &snap.analysis.traced;
    let at: std::collections::HashMap<i64, [f64; 2]> = snap
        .analysis
        .events
        .iter()
        .filter(|e| e.event.lat.is_finite() && e.event.lon.is_finite())
        .map(|e| (e.id, [e.event.lon, e.event.lat]))
        .collect();
    let hits: Vec<FlowView> = t
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
        .map(|(f, c)| FlowView {
            path: Some(flow_path(f, c, &|id| at.get(&id).copied())),
            ..FlowView::of(f, c)
        })
        .collect();
    let total = hits.len();
    let flows = hits.into_iter().skip(offset).take(limit).collect();
    Ok(Json(FlowPage {
        total,
        offset,
        limit,
        flows,
    }))
}

/// The data's span, the lists in the store, the sources and licences, and what the findings
/// are: what a published map or figure must say (the map's image export writes it).
#[utoipa::path(get, path = "/api/about",
    responses((status = 200, description = "version, data span, lists, sources", body = crate::views::About), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn about(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<crate::views::About>, ApiError> {
    Params::new(raw, &[])?;
    Ok(Json(s.snapshot().about.clone()))
}

/// `/api/alerts`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct AlertsQuery {
    /// Only alerts raised after this sequence number (each alert's `seq`).
    #[param(minimum = 0, maximum = 9007199254740991_i64)]
    after: Option<i64>,
    /// At most this many (default 100, at most 1 000).
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

/// An alert as the API answers it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AlertView {
    /// Order of raising, from 1: pass the last one seen as `after`.
    pub seq: i64,
    /// The alert (`shadowfleet watch --alerts` writes the same object; docs/alerts.md).
    #[schema(value_type = Object)]
    pub alert: serde_json::Value,
    /// Sinks it was delivered to (`ndjson`, webhook URLs).
    pub delivered: Vec<String>,
}

fn alert_views(s: &AppState, after: i64, limit: usize) -> Result<Vec<AlertView>, ApiError> {
    let rows = s
        .with_store(|st| st.alerts(after, limit))
        .map_err(ApiError::internal)?;
    Ok(rows
        .into_iter()
        .map(|a| AlertView {
            seq: a.seq,
            alert: serde_json::from_str(&a.body).unwrap_or(serde_json::Value::Null),
            delivered: a.delivered,
        })
        .collect())
}

fn after_and_limit(p: &Params) -> Result<(i64, usize), ApiError> {
    let after = p
        .get("after")
        .map(|a| {
            a.parse::<i64>()
                .ok()
                .filter(|n| (0..=9_007_199_254_740_991).contains(n))
                .ok_or_else(|| {
                    ApiError::bad(format!("after: {a:?} is not a sequence number (0 or more)"))
                })
        })
        .transpose()?
        .unwrap_or(0);
    let limit = p
        .get("limit")
        .map(|l| {
            l.parse::<usize>()
                .ok()
                .filter(|&n| (1..=1000).contains(&n))
                .ok_or_else(|| {
                    ApiError::bad(format!("limit: {l:?} is not a number from 1 to 1000"))
                })
        })
        .transpose()?
        .unwrap_or(100);
    Ok((after, limit))
}

/// Alerts raised by `shadowfleet watch --rules` (the store's alert history), oldest first.
#[utoipa::path(get, path = "/api/alerts",
    params(AlertsQuery),
    responses((status = 200, description = "alerts after `after`", body = [AlertView]), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn alerts(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<Vec<AlertView>>, ApiError> {
    let p = Params::new(raw, &["after", "limit"])?;
    let (after, limit) = after_and_limit(&p)?;
    Ok(Json(alert_views(&s, after, limit)?))
}

/// The alerts as they are raised, as server-sent events (`event: alert`, `id:` its `seq`,
/// `data:` the [`AlertView`]); from `after` (or the `Last-Event-ID` header), then live.
#[utoipa::path(get, path = "/api/alerts/stream",
    params(AlertsQuery),
    responses((status = 200, description = "text/event-stream of alerts", content_type = "text/event-stream"), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn alerts_stream(
    State(s): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    use axum::response::sse::{KeepAlive, Sse};
    let p = Params::new(raw, &["after", "limit"])?;
    let (after, _) = after_and_limit(&p)?;
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(after);
    Ok(Sse::new(alert_events(s, after))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The alerts after `after`, polled from the store every half second.
fn alert_events(
    s: Arc<AppState>,
    after: i64,
) -> impl tokio_stream::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move {
        let mut after = after;
        while let Ok(batch) = alert_views(&s, after, 100) {
            for a in batch {
                after = a.seq;
                let ev = axum::response::sse::Event::default()
                    .event("alert")
                    .id(a.seq.to_string())
                    .data(serde_json::to_string(&a).unwrap_or_default());
                if tx.send(Ok(ev)).await.is_err() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            if tx.is_closed() {
                return;
            }
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

fn live_geojson(v: &LiveView) -> serde_json::Value {
    let features: Vec<serde_json::Value> = v
        .positions
        .iter()
        .map(|p| {
            serde_json::json!({
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                "properties": {
                    "mmsi": p.mmsi,
                    "time": shadowfleet_model::Timestamp::from_unix_seconds(p.t).to_string(),
                },
            })
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "live": v.seq > 0, "seq": v.seq, "features": features})
}

/// Each vessel's latest position at the last checkpoint of `watch --serve`, as GeoJSON
/// `Point`s with `{mmsi, time}`; top level `live` (false when this server watches no feed)
/// and `seq` (bumped at each checkpoint).
#[utoipa::path(get, path = "/api/live",
    responses((status = 200, description = "GeoJSON FeatureCollection of latest positions", content_type = "application/geo+json"), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn live(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Response, ApiError> {
    Params::new(raw, &[])?;
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(live_geojson(&s.live())),
    )
        .into_response())
}

/// The same as server-sent events: `event: positions`, `data:` the FeatureCollection, sent
/// at once and after each checkpoint.
#[utoipa::path(get, path = "/api/live/stream",
    responses((status = 200, description = "text/event-stream of FeatureCollections", content_type = "text/event-stream"), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn live_stream(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    use axum::response::sse::{KeepAlive, Sse};
    Params::new(raw, &[])?;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut sent = u64::MAX;
        loop {
            let v = s.live();
            if v.seq != sent {
                sent = v.seq;
                let ev = axum::response::sse::Event::default()
                    .event("positions")
                    .id(v.seq.to_string())
                    .data(live_geojson(&v).to_string());
                if tx
                    .send(Ok::<_, std::convert::Infallible>(ev))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            if tx.is_closed() {
                return;
            }
        }
    });
    Ok(Sse::new(tokio_stream::wrappers::ReceiverStream::new(rx))
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The live feeds `shadowfleet watch` reads: messages per second, last message, read
/// offset, outages (as last committed).
#[utoipa::path(get, path = "/api/feeds",
    responses((status = 200, description = "one entry per feed", body = [shadowfleet_store::FeedRecord]), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn feeds(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<Vec<shadowfleet_store::FeedRecord>>, ApiError> {
    Params::new(raw, &[])?;
    s.with_store(|st| st.feeds())
        .map(Json)
        .map_err(ApiError::internal)
}

/// `/api/map/flows`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct MapFlowsQuery {
    /// Origin country of the oil, ISO alpha-2; every origin when absent.
    #[param(pattern = "^[A-Za-z]{2}$")]
    origin: Option<String>,
    /// Map zoom the tracks are simplified for (about a pixel); 6 when absent.
    #[param(minimum = 0, maximum = 12)]
    zoom: Option<u8>,
}

/// `/api/map/activity`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct ActivityQuery {
    /// The UTC day, `YYYY-MM-DD`.
    #[param(format = Date)]
    day: String,
    /// H3 resolution, 3–7; 5 (cells about 9 km across) when absent.
    #[param(minimum = 3, maximum = 7)]
    res: Option<u8>,
    /// Whose positions: `tankers` (ship type 80–89, the default), `shadow` (risk at or above
    /// the shadow threshold) or `all`.
    #[param(pattern = "^(tankers|shadow|all)$")]
    fleet: Option<String>,
}

/// Runs `draw` off the async threads, or answers the copy this snapshot already drew.
async fn drawn_layer(
    snap: Arc<Snapshot>,
    key: String,
    draw: impl FnOnce(&Snapshot) -> anyhow::Result<serde_json::Value> + Send + 'static,
) -> Result<Response, ApiError> {
    let v = match snap.drawn(&key) {
        Some(v) => v,
        None => {
            let s = Arc::clone(&snap);
            let v = tokio::task::spawn_blocking(move || draw(&s))
                .await
                .map_err(ApiError::internal)?
                .map_err(ApiError::internal)?;
            let v = Arc::new(v);
            snap.keep_drawn(key, Arc::clone(&v));
            v
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(v.as_ref().clone()),
    )
        .into_response())
}

/// Cargo flows as the map draws them: each leg along the carrying ship's own positions, and
/// where it was not heard, along the sea lanes; never across land.
#[utoipa::path(get, path = "/api/map/flows",
    params(MapFlowsQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection `{origin, flows, undrawn: {reason: count}, features}`: per leg, `LineString`s with `{role: \"leg\", flow, cargo, leg, mmsi, hop, volume_bbl, sts_hops, country, positions, drawn: track|sea_lanes|dark|canal}`; per stop a `Point` with `{role: load|possible_load|first_seen_laden|sts|dark_sts|discharge, flow, event, mmsi, time, volume_bbl}`", content_type = "application/geo+json", body = Object), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn map_flows(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Response, ApiError> {
    let p = Params::new(raw, &["origin", "zoom"])?;
    let origin = p.get("origin").map(str::to_ascii_uppercase);
    if let Some(c) = &origin {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(ApiError::bad(format!(
                "origin: {c:?} is not an ISO alpha-2 country code"
            )));
        }
    }
    let zoom = p.small_int("zoom", 0..=12)?.unwrap_or(6);
    let snap = s.snapshot();
    let query = crate::seaways::flows_query(&snap.analysis, origin.as_deref());
    let files = if query.mmsis.is_empty() {
        Vec::new()
    } else {
        s.with_store(|st| st.position_files(&query))
            .map_err(ApiError::internal)?
    };
    let key = format!("flows|{origin:?}|{zoom}");
    drawn_layer(snap, key, move |snap| {
        crate::seaways::flows_geojson(
            &snap.analysis,
            origin.as_deref(),
            &files,
            crate::tracks::tolerance_deg(zoom),
        )
    })
    .await
}

/// Every gap as the map draws it: the sea route from where the ship went silent to where it
/// came back, never across land, with its hours and a label point halfway along.
#[utoipa::path(get, path = "/api/map/gaps",
    responses((status = 200, description = "GeoJSON FeatureCollection `{gaps, undrawn: {reason: count}, features}`: `LineString`s with `{role: \"gap\", id, mmsi, hours, likely_dark, confidence, start, end, label: [lon, lat], drawn: dark|canal}`", content_type = "application/geo+json", body = Object), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn map_gaps(State(s): State<Arc<AppState>>, Query(raw): Raw) -> Result<Response, ApiError> {
    Params::new(raw, &[])?;
    drawn_layer(s.snapshot(), "gaps".into(), |snap| {
        crate::seaways::gaps_geojson(&snap.analysis).map_err(anyhow::Error::msg)
    })
    .await
}

/// Where a fleet was on one day: H3 cells with the distinct vessels, vessel-hours and
/// positions heard there, and the encounters that began there.
#[utoipa::path(get, path = "/api/map/activity",
    params(ActivityQuery),
    responses((status = 200, description = "GeoJSON FeatureCollection `{day, fleet, resolution, cells, vessel_hours, skipped, features}`: cell `Polygon`s with `{cell, vessels, vessel_hours, positions, encounters}`", content_type = "application/geo+json", body = Object), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn map_activity(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Response, ApiError> {
    let p = Params::new(raw, &["day", "res", "fleet"])?;
    let day_s = p
        .get("day")
        .ok_or_else(|| ApiError::bad("day: required, YYYY-MM-DD"))?;
    let day = day_start(day_s)
        .ok_or_else(|| ApiError::bad(format!("day: {day_s:?} is not a date YYYY-MM-DD")))?;
    let res = p
        .small_int("res", crate::activity::RESOLUTIONS)?
        .unwrap_or(crate::activity::DEFAULT_RESOLUTION);
    let fleet = match p.get("fleet") {
        None => crate::activity::Fleet::Tankers,
        Some(f) => crate::activity::Fleet::parse(f)
            .ok_or_else(|| ApiError::bad(format!("fleet: {f:?} is not tankers, shadow or all")))?,
    };
    let snap = s.snapshot();
    let query = crate::activity::query(&snap.analysis, fleet, day);
    let files = s
        .with_store(|st| st.position_files(&query))
        .map_err(ApiError::internal)?;
    let key = format!("activity|{day}|{res}|{}", fleet.name());
    drawn_layer(snap, key, move |snap| {
        crate::activity::activity_geojson(&snap.analysis, &files, fleet, day, res)
    })
    .await
}

/// The first second of the UTC day `YYYY-MM-DD`.
fn day_start(s: &str) -> Option<i64> {
    Timestamp::parse_day(s).map(|t| t.unix_millis().div_euclid(1000))
}

/// Oil of the configured origin (default RU) received per country and month.
#[utoipa::path(get, path = "/api/exposure",
    params(ExposureQuery),
    responses((status = 200, description = "one row per destination country and month", body = ExposureAnswer), (status = 400, description = "bad parameter", body = ErrorBody)))]
async fn exposure(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<ExposureAnswer>, ApiError> {
    let p = Params::new(raw, &["from", "to"])?;
    let (from, to) = (p.month("from")?, p.month("to")?);
    // From after to is an empty interval: no rows (not an error).
    let snap = s.snapshot();
    let rows = snap.analysis.exposure(from.as_deref(), to.as_deref());
    Ok(Json(ExposureAnswer {
        origins: snap.analysis.config.exposure.origins.clone(),
        from,
        to,
        rows,
    }))
}

/// Whether `given` equals `key`, in time independent of where they differ.
fn same_key(given: &str, key: &str) -> bool {
    let (a, b) = (given.as_bytes(), key.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= usize::from(a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0));
    }
    diff == 0
}

/// Ingests AIS (NMEA with tag blocks, gzip or zstd, or DMA/NOAA CSV; at most 64 MiB) as
/// one run, like `shadowfleet analyze`, then re-runs the analysis. Needs the API key the
/// server was started with, as `Authorization: Bearer KEY` or `X-API-Key: KEY`. The same
/// body twice is a no-op (the manifest knows its hash).
#[utoipa::path(post, path = "/api/ingest",
    request_body(content = NmeaText, content_type = "text/plain", description = "AIS messages"),
    responses(
        (status = 200, description = "what the run did; `run` is null when the body was already ingested", body = IngestAnswer),
        (status = 400, description = "empty body, or input that cannot be read", body = ErrorBody),
        (status = 401, description = "missing or wrong API key", body = ErrorBody),
        (status = 403, description = "the server was started without an API key: read-only", body = ErrorBody),
        (status = 409, description = "another process is writing to the store", body = ErrorBody),
        (status = 413, description = "body over 64 MiB", body = ErrorBody)))]
async fn ingest(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(raw): Raw,
    body: Bytes,
) -> Result<Json<IngestAnswer>, ApiError> {
    let Some(key) = &s.api_key else {
        return Err(ApiError::with(
            StatusCode::FORBIDDEN,
            "this server is read-only: start it with --api-key-file (or SHADOWFLEET_API_KEY) to enable POST /api/ingest",
        ));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()));
    if !given.is_some_and(|g| same_key(g.trim(), key)) {
        return Err(ApiError::with(
            StatusCode::UNAUTHORIZED,
            "missing or wrong API key (Authorization: Bearer KEY, or X-API-Key: KEY)",
        ));
    }
    Params::new(raw, &[])?;
    if body.is_empty() {
        return Err(ApiError::bad("empty body: send AIS messages"));
    }
    let _one_at_a_time = s.ingest_lock.lock().await;
    let state = Arc::clone(&s);
    let result = tokio::task::spawn_blocking(move || ingest_body(&state, &body))
        .await
        .map_err(ApiError::internal)?;
    result.map(Json)
}

/// AIS messages as text: NMEA 0183 lines with tag blocks, or a DMA or NOAA CSV export; not
/// empty.
struct NmeaText;

impl utoipa::PartialSchema for NmeaText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .min_length(Some(1))
            .description(Some(
                "NMEA 0183 lines with tag blocks, or a DMA or NOAA CSV export; not empty",
            ))
            .into()
    }
}

impl ToSchema for NmeaText {}

/// A zip archive.
struct ZipBytes;

impl utoipa::PartialSchema for ZipBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Binary,
            )))
            .description(Some("a zip archive (docs/formats.md, \"Evidence packs\")"))
            .into()
    }
}

impl ToSchema for ZipBytes {}

/// One input of an ingest run, as the manifest records it.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct InputView {
    /// Name in the manifest (`api:<hash>`).
    pub name: String,
    /// SHA-256 of the content, hex.
    pub content_hash: String,
    /// Size, bytes.
    pub bytes: u64,
    /// Messages decoded.
    pub messages: u64,
}

/// What `POST /api/ingest` did.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct IngestAnswer {
    /// The run's id; null when the body was already ingested.
    pub run: Option<i64>,
    /// The input analysed.
    pub inputs: Vec<InputView>,
    /// Inputs skipped (already in the manifest).
    pub skipped: Vec<String>,
    /// Messages decoded.
    pub messages: u64,
    /// Positions stored.
    pub positions: u64,
    /// Everything the run left out, by reason (as `shadowfleet analyze` prints it).
    pub dropped: shadowfleet_records::DropCounts,
    /// Events found, by kind.
    pub events: std::collections::BTreeMap<String, usize>,
    /// Identity periods recorded.
    pub identities: usize,
    /// Position files written.
    pub position_files: usize,
    /// Seconds spent decoding and detecting.
    pub elapsed_s: f64,
}

fn ingest_body(s: &AppState, body: &[u8]) -> Result<IngestAnswer, ApiError> {
    use sha2::Digest;
    let hash = shadowfleet_run::ingest::hex(&sha2::Sha256::digest(body));
    // The posted input is kept in the store, as evidence of what was analysed.
    let incoming = s.dir.join("incoming");
    let path = incoming.join(format!("{hash}.ais"));
    std::fs::create_dir_all(&incoming)
        .and_then(|()| std::fs::write(&path, body))
        .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
    let options = shadowfleet_run::ingest::IngestOptions {
        detectors: s.detectors.clone(),
        started_at: (s.clock)(),
        ..Default::default()
    };
    let input = shadowfleet_run::ingest::IngestInput {
        path,
        name: format!("api:{hash}"),
    };
    let report = shadowfleet_run::ingest::ingest(&s.dir, &[input], &options).map_err(|e| {
        if e.downcast_ref::<shadowfleet_store::StoreError>()
            .is_some_and(|e| matches!(e, shadowfleet_store::StoreError::Busy { .. }))
        {
            ApiError::with(StatusCode::CONFLICT, format!("{e:#}"))
        } else {
            ApiError::bad(format!("{e:#}"))
        }
    })?;
    if report.run.is_some() {
        let config = s.snapshot().analysis.config.clone();
        let fresh = s
            .with_store(|st| Snapshot::of(st, config))
            .map_err(|e| ApiError::internal(format!("{e:#}")))?;
        match s.snapshot.write() {
            Ok(mut g) => *g = Arc::new(fresh),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(fresh),
        }
        s.packs.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
    Ok(IngestAnswer {
        run: report.run,
        inputs: report
            .inputs
            .iter()
            .map(|i| InputView {
                name: i.name.clone(),
                content_hash: i.content_hash.clone(),
                bytes: i.bytes,
                messages: i.messages,
            })
            .collect(),
        skipped: report.skipped.clone(),
        messages: report.messages,
        positions: report.positions,
        dropped: report.dropped.clone(),
        events: report
            .events
            .iter()
            .map(|(k, n)| (k.as_str().to_owned(), *n))
            .collect(),
        identities: report.identities,
        position_files: report.position_files,
        elapsed_s: report.elapsed_s,
    })
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
