//! The analysis over a store and the HTTP API that serves it.
//!
//! [`analysis::Analysis`] reads a store's events, identities and reference lists and runs
//! screening, the cargo tracer, risk scores and the exposure; the CLI's `screen`, `vessel`,
//! `flows` and `exposure` and the API's endpoints are views of it ([`views`]). [`server`]
//! is the read-only axum API (`shadowfleet serve`), documented in `docs/api.md`, with its
//! OpenAPI description generated from the handlers. [`ingest`] runs AIS inputs through the
//! detection pipeline into a store, for `shadowfleet analyze` and `POST /api/ingest`.

pub mod analysis;
pub mod ingest;
pub mod report;
pub mod server;
pub mod tracks;
pub mod views;
