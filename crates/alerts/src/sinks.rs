//! Where alerts go, each delivered once: an NDJSON file ([`NdjsonSink`]) and webhooks
//! ([`Webhook`]: a signed POST, retried with backoff, a dead-letter file after the last try).

use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::Alert;

/// The header carrying a webhook body's signature: `sha256=` and the hex HMAC-SHA256 of the
/// body with the webhook's secret.
pub const SIGNATURE_HEADER: &str = "X-Shadowfleet-Signature";
/// The header carrying the alert's id, so that a receiver can drop a repeat (a delivery
/// whose success was not recorded before a crash is made again).
pub const ALERT_ID_HEADER: &str = "X-Shadowfleet-Alert-Id";

/// An NDJSON file of alerts, one object a line, appended to. Which alerts it holds is read
/// from the file itself when it is opened, so that an alert written just before a crash is
/// not written again.
pub struct NdjsonSink {
    path: PathBuf,
    file: std::fs::File,
    written: HashSet<String>,
}

impl NdjsonSink {
    /// Opens (or creates) `path` for appending and reads the alert ids it holds.
    pub fn open(path: &Path) -> std::io::Result<NdjsonSink> {
        let mut written = HashSet::new();
        if let Ok(f) = std::fs::File::open(path) {
            for line in std::io::BufReader::new(f).lines() {
                let line = line?;
                if let Ok(a) = serde_json::from_str::<Alert>(&line) {
                    written.insert(a.alert_id);
                }
            }
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(NdjsonSink {
            path: path.to_owned(),
            file,
            written,
        })
    }

    /// Whether the file holds the alert.
    pub fn holds(&self, alert_id: &str) -> bool {
        self.written.contains(alert_id)
    }

    /// Appends the alert (flushed to the disk) unless the file holds it.
    pub fn deliver(&mut self, a: &Alert) -> std::io::Result<()> {
        if self.written.contains(&a.alert_id) {
            return Ok(());
        }
        let mut line = serde_json::to_string(a).map_err(std::io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()?;
        self.written.insert(a.alert_id.clone());
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A webhook: alerts are POSTed to `url` as JSON, signed with `secret`.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Where to POST.
    pub url: String,
    /// The HMAC key (empty: no signature header).
    pub secret: String,
    /// Tries before giving up.
    pub attempts: u32,
    /// Wait before the second try; doubled after each.
    pub first_retry: Duration,
    /// Where alerts go that could not be delivered (NDJSON: the alert and the last error).
    pub dead_letter: PathBuf,
}

/// The `sha256=` signature of `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// How a delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted (a 2xx answer) after this many tries.
    Delivered(u32),
    /// Given up after every try: written to the dead-letter file with the last error.
    DeadLetter(String),
}

impl Webhook {
    /// POSTs the alert until it is accepted or the tries are spent (then the dead-letter
    /// file gets it). Blocks for the retries: call from a delivery thread.
    pub fn deliver(&self, a: &Alert) -> std::io::Result<Delivery> {
        let body = serde_json::to_vec(a).map_err(std::io::Error::other)?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .build()
            .into();
        let mut wait = self.first_retry;
        let mut last = String::new();
        for attempt in 1..=self.attempts.max(1) {
            let mut req = agent
                .post(&self.url)
                .header("Content-Type", "application/json")
                .header(ALERT_ID_HEADER, &a.alert_id);
            if !self.secret.is_empty() {
                req = req.header(SIGNATURE_HEADER, &signature(&self.secret, &body));
            }
            match req.send(&body[..]) {
                Ok(resp) if resp.status().is_success() => return Ok(Delivery::Delivered(attempt)),
                Ok(resp) => last = format!("HTTP {}", resp.status()),
                Err(e) => last = e.to_string(),
            }
            if attempt < self.attempts {
                std::thread::sleep(wait);
                wait = wait.saturating_mul(2);
            }
        }
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.dead_letter)?;
        let line = serde_json::json!({"webhook": self.url, "error": last, "alert": a});
        writeln!(f, "{line}")?;
        f.sync_data()?;
        Ok(Delivery::DeadLetter(last))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_published_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
