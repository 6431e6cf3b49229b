//! Reference lists into a store: sanctions and watch lists, vessel particulars.

use anyhow::Context;
use shadowfleet_refdata::RefList;
use shadowfleet_store::Store;

use crate::config::parse_list_arg;
use crate::ingest::content_hash;

/// Loads `lists` (`PATH` or `FORMAT:PATH`) into `store`, recording `loaded_at` (unix
/// seconds). Every file is read and validated before any is stored, so a broken file leaves
/// the store as it was. Returns the lists loaded.
pub fn load_lists(
    store: &mut Store,
    lists: &[String],
    loaded_at: i64,
) -> anyhow::Result<Vec<RefList>> {
    let mut loaded = Vec::new();
    for a in lists {
        let (format, path) = parse_list_arg(a);
        let list = shadowfleet_refdata::load(&path, format, None)?;
        let (hash, _) = content_hash(&path)?;
        loaded.push((list, hash));
    }
    let now = shadowfleet_model::Timestamp::from_unix_seconds(loaded_at).to_string();
    for (list, hash) in &loaded {
        store
            .put_list(list, hash, &now)
            .with_context(|| format!("storing {}", list.name))?;
    }
    Ok(loaded.into_iter().map(|(l, _)| l).collect())
}
