//! The macro that declares the event kinds: one line per kind generates the variant of
//! [`crate::EventKind`], the variant of [`crate::EventDetails`] holding the kind's details
//! struct, and the conversions between them, so that a new kind is one line in
//! `details.rs` beside its struct.

/// Declares `EventKind` and `EventDetails` from `Variant(DetailsStruct) = "name";` lines. The
/// name must be the variant's name in snake case: serde and the OpenAPI schema derive it
/// that way (a `rename` inside a macro is not seen by the schema derive), and a test checks
/// they agree.
macro_rules! event_kinds {
    ($( $(#[$doc:meta])* $variant:ident($details:ident) = $name:literal; )+) => {
        /// Kind of event: the detector that found it.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum EventKind {
            $( $(#[$doc])* $variant, )+
        }

        impl EventKind {
            /// Every kind, in a fixed order (the order of [`EventKind::index`]).
            pub const ALL: [EventKind; [$($name),+].len()] = [$(EventKind::$variant),+];
            /// How many kinds there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The kind's name in every output: `gap`, `encounter`, ...
            pub fn as_str(self) -> &'static str {
                match self { $(EventKind::$variant => $name,)+ }
            }

            /// Position in [`EventKind::ALL`], for per-kind counters in arrays.
            pub fn index(self) -> usize {
                self as usize
            }

            /// The kind named `s`.
            pub fn parse(s: &str) -> Option<EventKind> {
                EventKind::ALL.into_iter().find(|k| k.as_str() == s)
            }
        }

        /// What an event of each kind says beyond what every event says, with the reports it
        /// rests on. In JSON: `"kind": "<name>", "details": {...}` beside the event's fields.
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(tag = "kind", content = "details", rename_all = "snake_case")]
        pub enum EventDetails {
            $( $(#[$doc])* $variant($details), )+
        }

        impl EventDetails {
            /// The kind of event these details belong to.
            pub fn kind(&self) -> EventKind {
                match self { $(EventDetails::$variant(_) => EventKind::$variant,)+ }
            }

            /// The details alone as JSON (the store's `details` column).
            pub fn to_json(&self) -> Result<String, serde_json::Error> {
                match self { $(EventDetails::$variant(d) => serde_json::to_string(d),)+ }
            }

            /// The details alone as a JSON value.
            pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self { $(EventDetails::$variant(d) => serde_json::to_value(d),)+ }
            }

            /// Details of `kind` from their JSON (the store's `details` column).
            pub fn from_json(kind: EventKind, json: &str) -> Result<EventDetails, serde_json::Error> {
                match kind {
                    $(EventKind::$variant => serde_json::from_str(json).map(EventDetails::$variant),)+
                }
            }
        }

        $(
            impl From<$details> for EventDetails {
                fn from(d: $details) -> EventDetails {
                    EventDetails::$variant(d)
                }
            }
        )+
    };
}
