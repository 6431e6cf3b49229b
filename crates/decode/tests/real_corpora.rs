//! Every real feed decodes without panic; counts are reported per file.

use std::path::Path;

use shadowfleet_decode::{DecoderConfig, RejectReason};

use crate::common::{decode_bytes, shared_ais_real, testdata};

fn decode_tree(root: &Path, report: &mut String) -> (u64, u64) {
    let mut files: Vec<_> = walk(root);
    files.sort();
    let (mut total_msgs, mut total_rej) = (0, 0);
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".chk")
            || name.ends_with(".json")
            || name.contains("LICENSE")
            || name == "COPYING"
            || name.ends_with(".md")
            || name == "NOTICE.txt"
            || name.ends_with(".csv")
        {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        let (_, stats) = decode_bytes(&bytes, DecoderConfig::default());
        let mut reasons = String::new();
        for r in RejectReason::ALL {
            if stats.rejected(r) > 0 {
                reasons.push_str(&format!(" {}={}", r.code(), stats.rejected(r)));
            }
        }
        report.push_str(&format!(
            "{:<60} {:>6} msgs {:>5} rejected{}\n",
            f.strip_prefix(root).unwrap().display(),
            stats.messages,
            stats.rejected_total(),
            reasons
        ));
        total_msgs += stats.messages;
        total_rej += stats.rejected_total();
    }
    (total_msgs, total_rej)
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn shipped_corpora_decode_without_panic() {
    let mut report = String::new();
    let (msgs, rejected) = decode_tree(&testdata().join("ais-real"), &mut report);
    eprintln!("{report}total: {msgs} messages, {rejected} rejected");
    assert!(msgs > 9_000, "{msgs} messages decoded");
}

#[test]
fn unshipped_shared_corpora_decode_without_panic() {
    let Some(shared) = shared_ais_real() else {
        return;
    };
    let mut report = String::new();
    let (msgs, _) = decode_tree(&shared.join("aisdb"), &mut report);
    eprintln!("{report}");
    assert!(msgs > 900, "{msgs} messages decoded from aisdb");
}
