//! The HTTP API, its views and the web map.
//!
//! The CLI's `screen`, `vessel`, `flows` and `exposure` and the API's endpoints are views
//! ([`views`]) of the analysis of the run layer ([`shadowfleet_run::Analysis`]). [`server`]
//! is the axum API (`shadowfleet serve`, read-only unless given an API key for
//! `POST /api/ingest`, which runs the run layer's ingest), documented in `docs/api.md`, with
//! its OpenAPI description generated from the handlers and the response types.

pub mod activity;
pub mod ceasefire;
pub mod report;
pub mod seaways;
pub mod server;
pub mod tracks;
pub mod views;
