//! CSV rows in time order whatever their order in the file (exports sorted by vessel, or
//! sampled and shuffled): rows are held in memory up to a bound, sorted runs spill to
//! temporary files beyond it, and a k-way merge hands them on by (time, line). Each row keeps
//! its line number, so errors still name the line of the file.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter};
use std::path::PathBuf;

/// Rows held in memory before a sorted run spills, bytes of field text.
pub const DEFAULT_SORT_BYTES: usize = 256 << 20;

/// Sorts CSV records by a time key, within a memory bound.
pub struct TimeSorter {
    bound: usize,
    rows: Vec<(i64, u64, csv::StringRecord)>,
    bytes: usize,
    runs: Vec<PathBuf>,
    dir: PathBuf,
}

impl TimeSorter {
    /// A sorter holding up to `bound` bytes of fields, spilling into a fresh directory of
    /// the system's temporary directory.
    pub fn new(bound: usize) -> TimeSorter {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TimeSorter {
            bound: bound.max(1),
            rows: Vec::new(),
            bytes: 0,
            runs: Vec::new(),
            dir: std::env::temp_dir().join(format!("shadowfleet-sort-{}-{n}", std::process::id())),
        }
    }

    /// Takes a row with its time key (unix ms; rows without a time sort first, so that
    /// their errors are reported) and its line in the file.
    pub fn push(&mut self, time: i64, line: u64, record: &csv::StringRecord) -> io::Result<()> {
        self.bytes += record.as_slice().len() + 16 * record.len() + 64;
        self.rows.push((time, line, record.clone()));
        if self.bytes >= self.bound {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        self.rows.sort_by_key(|r| (r.0, r.1));
        std::fs::create_dir_all(&self.dir)?;
        let path = self.dir.join(format!("run-{}.csv", self.runs.len()));
        let mut w = csv::WriterBuilder::new()
            .flexible(true)
            .from_writer(BufWriter::new(File::create(&path)?));
        for (t, line, rec) in self.rows.drain(..) {
            let mut out =
                csv::StringRecord::with_capacity(rec.as_slice().len() + 24, rec.len() + 2);
            out.push_field(&t.to_string());
            out.push_field(&line.to_string());
            for f in rec.iter() {
                out.push_field(f);
            }
            w.write_record(&out)?;
        }
        w.flush()?;
        self.runs.push(path);
        self.bytes = 0;
        Ok(())
    }

    /// Hands every row on in (time, line) order, then removes the spill files.
    pub fn finish(mut self, f: &mut dyn FnMut(u64, &csv::StringRecord)) -> io::Result<()> {
        if self.runs.is_empty() {
            self.rows.sort_by_key(|r| (r.0, r.1));
            for (_, line, rec) in &self.rows {
                f(*line, rec);
            }
            return Ok(());
        }
        if !self.rows.is_empty() {
            self.spill()?;
        }
        let result = self.merge(f);
        let _ = std::fs::remove_dir_all(&self.dir);
        result
    }

    fn merge(&self, f: &mut dyn FnMut(u64, &csv::StringRecord)) -> io::Result<()> {
        let mut readers: Vec<csv::Reader<BufReader<File>>> = self
            .runs
            .iter()
            .map(|p| {
                File::open(p).map(|file| {
                    csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .from_reader(BufReader::new(file))
                })
            })
            .collect::<io::Result<_>>()?;
        let mut heads: Vec<Option<csv::StringRecord>> = vec![None; readers.len()];
        let mut heap = BinaryHeap::new();
        let read = |r: &mut csv::Reader<BufReader<File>>| -> io::Result<Option<(i64, u64, csv::StringRecord)>> {
            let mut rec = csv::StringRecord::new();
            if !r.read_record(&mut rec).map_err(io::Error::other)? {
                return Ok(None);
            }
            let t = rec.get(0).and_then(|x| x.parse().ok()).unwrap_or(i64::MIN);
            let line = rec.get(1).and_then(|x| x.parse().ok()).unwrap_or(0);
            let fields: csv::StringRecord = rec.iter().skip(2).collect();
            Ok(Some((t, line, fields)))
        };
        for (k, r) in readers.iter_mut().enumerate() {
            if let Some((t, line, rec)) = read(r)? {
                heads[k] = Some(rec);
                heap.push(Reverse((t, line, k)));
            }
        }
        while let Some(Reverse((_, line, k))) = heap.pop() {
            if let Some(rec) = heads[k].take() {
                f(line, &rec);
            }
            if let Some((t, line, rec)) = read(&mut readers[k])? {
                heads[k] = Some(rec);
                heap.push(Reverse((t, line, k)));
            }
        }
        Ok(())
    }
}

impl Drop for TimeSorter {
    fn drop(&mut self) {
        if !self.runs.is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests fail loudly")]
mod tests {
    use super::*;

    fn sorted(bound: usize, times: &[i64]) -> Vec<(u64, String)> {
        let mut s = TimeSorter::new(bound);
        for (i, t) in times.iter().enumerate() {
            let rec = csv::StringRecord::from(vec![t.to_string(), "a,b \"quoted\"".to_owned()]);
            s.push(*t, i as u64 + 2, &rec).unwrap();
        }
        let mut out = Vec::new();
        s.finish(&mut |line, rec| out.push((line, rec.get(0).unwrap().to_owned())))
            .unwrap();
        out
    }

    #[test]
    fn rows_come_out_in_time_order_in_memory_and_spilled() {
        let mut x = 7u64;
        let times: Vec<i64> = (0..2000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 500) as i64
            })
            .collect();
        let mem = sorted(usize::MAX, &times);
        let spilled = sorted(2000, &times);
        assert_eq!(mem, spilled);
        assert_eq!(mem.len(), times.len());
        let keys: Vec<(i64, u64)> = mem
            .iter()
            .map(|(l, t)| (t.parse::<i64>().unwrap(), *l))
            .collect();
        assert!(keys.windows(2).all(|w| w[0] <= w[1]));
    }
}
