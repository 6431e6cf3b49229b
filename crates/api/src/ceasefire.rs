//! The ceasefire monitor over HTTP (`docs/ceasefire.md`, `docs/api.md`): the weekly rows with
//! the regime summaries and change points, the traffic after an incident, the spoofing
//! clusters as GeoJSON, and the `/ceasefire` page that charts them.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use shadowfleet_ceasefire::{
    incident_effects, monitor, ChangePoint, Incident, IncidentEffect, Inputs, MonitorError,
    OccupiedCall, Options, RegimeSummary, Registry, Report, Row,
};
use utoipa::{IntoParams, ToSchema};

use crate::server::{ApiError, AppState, Params, Raw};

/// The monitor's report on a snapshot, or why there is none (the store holds nothing in the
/// registry's box).
pub struct Monitored {
    registry: Registry,
    report: Result<Report, String>,
}

/// The report of the current snapshot, made once (it reads the stored positions).
async fn monitored(s: &Arc<AppState>) -> Result<Arc<Monitored>, ApiError> {
    let snap = s.snapshot();
    if let Some(m) = snap.ceasefire.get() {
        return Ok(Arc::clone(m));
    }
    let state = Arc::clone(s);
    let snap2 = Arc::clone(&snap);
    let m = tokio::task::spawn_blocking(move || -> Result<Monitored, String> {
        let land = shadowfleet_geo::Land::natural_earth_10m().map_err(|e| e.to_string())?;
        let places = shadowfleet_places::Places::embedded(&land).map_err(|e| e.to_string())?;
        let registry = Registry::black_sea(&places).map_err(|e| e.to_string())?;
        let a = &snap2.analysis;
        let port_entry_km = state
            .with_store(|st| shadowfleet_run::config::port_call_entry_km(st, &a.events))
            .map_err(|e| e.to_string())?;
        let report = state.with_store(|st| {
            monitor(
                st,
                &registry,
                &Inputs {
                    events: &a.events,
                    identities: &a.identities,
                    matches: &a.matches,
                    land: &land,
                    port_entry_km,
                },
                &Options::default(),
            )
        });
        let report = match report {
            Ok(r) => Ok(r),
            Err(e @ MonitorError::Empty(_)) => Err(e.to_string()),
            Err(e) => return Err(e.to_string()),
        };
        Ok(Monitored { registry, report })
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    Ok(Arc::clone(snap.ceasefire.get_or_init(|| Arc::new(m))))
}

/// `/api/ceasefire/weekly`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct WeeklyQuery {
    /// Only this metric (`port_calls`, `departures`, `gate_transits`, `dark_index`,
    /// `destination_honesty`, ...).
    metric: Option<String>,
    /// Only this place: a registry id (`UA-ODESA`, `GATE-BOSPORUS-N`) or a region.
    place: Option<String>,
    /// Only weeks beginning at or after this time (RFC 3339).
    #[param(format = DateTime)]
    from: Option<String>,
    /// Only weeks beginning before this time (RFC 3339).
    #[param(format = DateTime)]
    to: Option<String>,
}

/// The weekly metrics.
#[derive(Debug, Serialize, ToSchema)]
pub struct CeasefireWeekly {
    /// Registry name and version.
    pub registry: String,
    /// Period of the data, RFC 3339 (absent when nothing lies in the registry's box).
    pub from: Option<String>,
    /// End (exclusive).
    pub to: Option<String>,
    /// Why there are no rows, when there are none for that reason.
    pub note: Option<String>,
    /// Weekly rows (`docs/ceasefire.md`).
    pub rows: Vec<Row>,
    /// Mean and interval per regime of the series asked.
    pub regimes: Vec<RegimeSummary>,
    /// Change points in daily departures (of the place asked, or all).
    pub change_points: Vec<ChangePoint>,
    /// Calls at occupied ports (of the place asked, or all).
    pub occupied_calls: Vec<OccupiedCall>,
}

/// The Black Sea ceasefire monitor's weekly metrics per place, with the regime summaries
/// and change points; every number with the stored events behind it.
#[utoipa::path(get, path = "/api/ceasefire/weekly",
    params(WeeklyQuery),
    responses((status = 200, description = "weekly rows (none, with a note, when the store holds nothing in the Black Sea)", body = CeasefireWeekly), (status = 400, description = "bad parameter", body = crate::server::ErrorBody)))]
pub async fn weekly(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<CeasefireWeekly>, ApiError> {
    let p = Params::new(raw, &["metric", "place", "from", "to"])?;
    let (from, to) = (p.time("from")?, p.time("to")?);
    let metric = p.get("metric").map(str::to_owned);
    let place = p.get("place").map(str::to_owned);
    let m = monitored(&s).await?;
    let name = format!("{} v{}", m.registry.name, m.registry.version);
    let r = match &m.report {
        Ok(r) => r,
        Err(why) => {
            return Ok(Json(CeasefireWeekly {
                registry: name,
                from: None,
                to: None,
                note: Some(why.clone()),
                rows: Vec::new(),
                regimes: Vec::new(),
                change_points: Vec::new(),
                occupied_calls: Vec::new(),
            }))
        }
    };
    let keep = |mt: &str, pl: &str| {
        metric.as_deref().is_none_or(|x| x == mt) && place.as_deref().is_none_or(|x| x == pl)
    };
    let in_period = |week_start: &str| {
        let t = shadowfleet_model::Timestamp::parse_rfc3339(week_start)
            .map(|t| t.unix_millis() / 1000)
            .unwrap_or(0);
        from.is_none_or(|f| t >= f) && to.is_none_or(|e| t < e)
    };
    Ok(Json(CeasefireWeekly {
        registry: name,
        from: Some(r.from.clone()),
        to: Some(r.to.clone()),
        note: None,
        rows: r
            .rows
            .iter()
            .filter(|x| keep(x.metric, &x.place) && in_period(&x.week_start))
            .cloned()
            .collect(),
        regimes: r
            .regimes
            .iter()
            .filter(|x| keep(x.metric, &x.place))
            .cloned()
            .collect(),
        change_points: r
            .change_points
            .iter()
            .filter(|x| place.as_deref().is_none_or(|p| p == x.place))
            .cloned()
            .collect(),
        occupied_calls: r
            .occupied_calls
            .iter()
            .filter(|x| place.as_deref().is_none_or(|p| p == x.port))
            .cloned()
            .collect(),
    }))
}

/// `/api/ceasefire/incidents`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "describes the query for OpenAPI; read by Params")]
struct IncidentQuery {
    /// When it happened (RFC 3339).
    #[param(format = DateTime)]
    time: String,
    /// A registry port id (else every Ukrainian sea port is measured).
    place: Option<String>,
}

/// Departures per day in the 28 days before an incident (an attack, a detention) and the 7
/// and 14 days after, at its port and the port's group (or at every Ukrainian sea port).
#[utoipa::path(get, path = "/api/ceasefire/incidents",
    params(IncidentQuery),
    responses((status = 200, description = "the traffic change per place", body = [IncidentEffect]), (status = 400, description = "bad or missing time", body = crate::server::ErrorBody), (status = 404, description = "no such port in the registry", body = crate::server::ErrorBody)))]
pub async fn incidents(
    State(s): State<Arc<AppState>>,
    Query(raw): Raw,
) -> Result<Json<Vec<IncidentEffect>>, ApiError> {
    let p = Params::new(raw, &["time", "place"])?;
    let time = p
        .time("time")?
        .ok_or_else(|| ApiError::bad("time: missing (RFC 3339)"))?;
    let place = p.get("place").unwrap_or("").to_owned();
    let m = monitored(&s).await?;
    if !place.is_empty() && !m.registry.ports.iter().any(|x| x.id == place) {
        return Err(ApiError::not_found(format!(
            "place: {place:?} is not a port of the registry"
        )));
    }
    let Ok(r) = &m.report else {
        return Ok(Json(Vec::new()));
    };
    Ok(Json(incident_effects(
        &m.registry,
        &r.departures,
        r.span,
        &[Incident {
            time,
            place,
            vessel: String::new(),
            description: String::new(),
        }],
    )))
}

/// The spoofing clusters (vessels displaced together: interference) as a GeoJSON
/// FeatureCollection: a point at the centre of the false positions, with its spread,
/// vessels, start, end and the event.
#[utoipa::path(get, path = "/api/ceasefire/clusters",
    responses((status = 200, description = "GeoJSON FeatureCollection of Points", content_type = "application/geo+json", body = Object)))]
pub async fn clusters(State(s): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let m = monitored(&s).await?;
    let features: Vec<serde_json::Value> = m
        .report
        .as_ref()
        .map(|r| r.clusters.as_slice())
        .unwrap_or(&[])
        .iter()
        .map(|c| {
            serde_json::json!({
                "type": "Feature",
                "id": c.event,
                "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                "properties": {
                    "event": c.event, "radius_km": c.radius_km, "vessels": c.vessels,
                    "start": c.start, "end": c.end,
                    "area_lat": c.area_lat, "area_lon": c.area_lon,
                },
            })
        })
        .collect();
    Ok((
        [(header::CONTENT_TYPE, "application/geo+json")],
        Json(serde_json::json!({"type": "FeatureCollection", "features": features})),
    )
        .into_response())
}

/// The `/ceasefire` page: the regime timeline, weekly charts per metric and place, change
/// points and clusters, drawn from the endpoints above.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("ceasefire.html"))
}
