//! Input sources and the loop that feeds the decoder.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::net::{TcpStream, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use shadowfleet_decode::{Decoder, DecoderConfig, Sink};
use shadowfleet_model::Timestamp;

use crate::csv_archive::{detect_csv, CsvReader};
use crate::csv_columns::Role;
use crate::report::{IngestError, SourceReport};

/// Where to read AIS from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file; gzip and zstd are recognised by their magic bytes.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A TCP feed, `tcp://host:port`; reconnects with backoff.
    Tcp(String),
    /// A UDP listener, `udp://bind-address:port`.
    Udp(String),
}

impl Source {
    /// Parses a command-line input: `-`, `tcp://host:port`, `udp://addr:port`, or a path.
    pub fn parse(spec: &str) -> Source {
        if spec == "-" {
            Source::Stdin
        } else if let Some(addr) = spec.strip_prefix("tcp://") {
            Source::Tcp(addr.to_string())
        } else if let Some(addr) = spec.strip_prefix("udp://") {
            Source::Udp(addr.to_string())
        } else {
            Source::File(PathBuf::from(spec))
        }
    }

    /// A name for messages.
    pub fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_string(),
            Source::Tcp(a) => format!("tcp://{a}"),
            Source::Udp(a) => format!("udp://{a}"),
        }
    }
}

/// Exponential reconnect backoff for feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
    /// Give up after this many consecutive failed attempts (`None`: never).
    pub max_attempts: Option<u32>,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// The wait before attempt `n` (from 0).
    pub fn delay(&self, n: u32) -> Duration {
        let factor = 1u32.checked_shl(n.min(16)).unwrap_or(u32::MAX);
        self.initial.saturating_mul(factor).min(self.max)
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Opens a file or stdin, transparently decompressing gzip and zstd.
pub fn open_reader(source: &Source) -> Result<Box<dyn BufRead + Send>, IngestError> {
    open_reader_counting(source, None)
}

/// [`open_reader`], adding the bytes read from the file or stdin (before decompression) to
/// `read`.
fn open_reader_counting(
    source: &Source,
    read: Option<Arc<AtomicU64>>,
) -> Result<Box<dyn BufRead + Send>, IngestError> {
    let io_err = |error| IngestError::Io {
        source_name: source.name(),
        error,
    };
    let counted = |r: Box<dyn Read + Send>| -> Box<dyn Read + Send> {
        match &read {
            Some(read) => Box::new(Counting {
                inner: r,
                read: Arc::clone(read),
            }),
            None => r,
        }
    };
    let raw: Box<dyn Read + Send> = match source {
        Source::File(p) => counted(Box::new(File::open(p).map_err(io_err)?)),
        Source::Stdin => counted(Box::new(io::stdin())),
        _ => {
            return Err(IngestError::Format {
                source_name: source.name(),
                reason: "not a file or stdin".into(),
            })
        }
    };
    let mut buffered = BufReader::with_capacity(1 << 16, raw);
    let head = buffered.fill_buf().map_err(io_err)?;
    Ok(if head.starts_with(&GZIP_MAGIC) {
        Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(buffered),
        ))
    } else if head.starts_with(&ZSTD_MAGIC) {
        let z = zstd::stream::read::Decoder::with_buffer(buffered).map_err(io_err)?;
        Box::new(BufReader::with_capacity(1 << 16, z))
    } else {
        Box::new(buffered)
    })
}

/// Reads a whole source into `sink`. NMEA goes through a fresh decoder built
/// from `config`; CSV archives (recognised by their header) through [`CsvReader`].
/// Feeds (TCP/UDP) return only when they give up (see [`Backoff`]) or, for UDP,
/// never; callers run them on their own thread.
pub fn read_source(
    source: &Source,
    config: &DecoderConfig,
    backoff: Backoff,
    sink: &mut dyn Sink,
) -> Result<SourceReport, IngestError> {
    read_source_counting(source, config, backoff, sink, None)
}

/// [`read_source`], adding the bytes read from a file or stdin (before decompression) to
/// `read` as it goes: a caller's progress bar.
pub fn read_source_counting(
    source: &Source,
    config: &DecoderConfig,
    backoff: Backoff,
    sink: &mut dyn Sink,
    read: Option<Arc<AtomicU64>>,
) -> Result<SourceReport, IngestError> {
    read_source_with(source, config, backoff, sink, read, &[])
}

/// [`read_source_counting`], with CSV columns the user named (`--columns role=HEADER`):
/// with any given, a file that is not NMEA is read as a CSV by them.
pub fn read_source_with(
    source: &Source,
    config: &DecoderConfig,
    backoff: Backoff,
    sink: &mut dyn Sink,
    read: Option<Arc<AtomicU64>>,
    columns: &[(Role, String)],
) -> Result<SourceReport, IngestError> {
    let mut config = config.clone();
    // A live feed's untimed lines take their arrival time, flagged as such.
    config.stamp_arrival |= matches!(source, Source::Tcp(_) | Source::Udp(_));
    let mut decoder = Decoder::new(config);
    match source {
        Source::File(_) | Source::Stdin => {
            let mut reader = open_reader_counting(source, read)?;
            let io_err = |error| IngestError::Io {
                source_name: source.name(),
                error,
            };
            let head = reader.fill_buf().map_err(io_err)?;
            if crate::parquet_rows::is_parquet(head) {
                let Source::File(path) = source else {
                    return Err(IngestError::Format {
                        source_name: source.name(),
                        reason: "Parquet needs a file (it is read from its end): give its path, not standard input".into(),
                    });
                };
                return read_parquet(path, &source.name(), columns, sink);
            }
            match detect_csv(head, columns) {
                Ok(Some(layout)) => {
                    // Rows in time order whatever the file's order: a first pass over a file
                    // says whether it needs sorting; standard input is always sorted.
                    let mut csv = CsvReader::new(layout);
                    let ordered = match source {
                        Source::File(_) => {
                            let again = open_reader(source)?;
                            csv.is_time_ordered(again)
                        }
                        _ => false,
                    };
                    if !ordered {
                        csv = csv.sorted(crate::sort::DEFAULT_SORT_BYTES);
                    }
                    return csv.read_all(reader, &source.name(), sink);
                }
                Ok(None) => {}
                Err(e) => {
                    return Err(IngestError::Format {
                        source_name: source.name(),
                        reason: e.to_string(),
                    })
                }
            }
            pump_on_reader_thread(reader, &mut decoder, sink).map_err(io_err)?;
        }
        Source::Tcp(addr) => read_tcp(addr, &mut decoder, backoff, sink, &source.name())?,
        Source::Udp(addr) => read_udp(addr, &mut decoder, sink, &source.name())?,
    }
    decoder.finish(sink);
    Ok(SourceReport {
        stats: decoder.stats().clone(),
        ..Default::default()
    })
}

/// A (Geo)Parquet position file, through the CSV reader (see [`crate::parquet_rows`]).
fn read_parquet(
    path: &std::path::Path,
    name: &str,
    columns: &[(Role, String)],
    sink: &mut dyn Sink,
) -> Result<SourceReport, IngestError> {
    use crate::parquet_rows::ParquetAsCsv;
    let io_err = |error| IngestError::Io {
        source_name: name.to_owned(),
        error,
    };
    let mut rows = BufReader::new(ParquetAsCsv::open(path).map_err(io_err)?);
    let head = rows.fill_buf().map_err(io_err)?;
    let layout = match detect_csv(head, columns) {
        Ok(Some(layout)) => layout,
        Ok(None) => {
            return Err(IngestError::Format {
                source_name: name.to_owned(),
                reason: "a Parquet file without the columns of positions (MMSI, time, latitude and longitude, or a point geometry)".into(),
            })
        }
        Err(e) => {
            return Err(IngestError::Format {
                source_name: name.to_owned(),
                reason: format!("Parquet columns: {e}"),
            })
        }
    };
    let mut csv = CsvReader::new(layout);
    let again = BufReader::new(ParquetAsCsv::open(path).map_err(io_err)?);
    if !csv.is_time_ordered(again) {
        csv = csv.sorted(crate::sort::DEFAULT_SORT_BYTES);
    }
    csv.read_all(rows, name, sink)
}

/// The wall-clock time now: the arrival time of a live feed's bytes.
#[allow(
    clippy::disallowed_methods,
    reason = "a live feed's untimed lines are stamped with when they arrived"
)]
fn arrival_now() -> Timestamp {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp(i64::try_from(since.as_millis()).unwrap_or(i64::MAX))
}

/// Pushes `bytes`, stamped with their arrival when the decoder stamps arrivals.
fn push_arrived(decoder: &mut Decoder, bytes: &[u8], sink: &mut dyn Sink) {
    if decoder.config().stamp_arrival {
        decoder.set_arrival_time(arrival_now());
    }
    decoder.push(bytes, sink);
}

fn pump(reader: &mut dyn Read, decoder: &mut Decoder, sink: &mut dyn Sink) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => push_arrived(decoder, &buf[..n], sink),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Blocks read ahead by the reader thread of [`pump_on_reader_thread`].
const READ_AHEAD: usize = 4;
/// Size of one block, bytes.
const BLOCK: usize = 1 << 20;

/// [`pump`] with the reading (and decompression) on a thread of its own, a few blocks ahead
/// of the decoder; blocks go back to the reader once decoded, so memory stays bounded.
fn pump_on_reader_thread(
    mut reader: Box<dyn BufRead + Send>,
    decoder: &mut Decoder,
    sink: &mut dyn Sink,
) -> io::Result<()> {
    use std::sync::mpsc::sync_channel;
    let (full_tx, full_rx) = sync_channel::<io::Result<Vec<u8>>>(READ_AHEAD);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(READ_AHEAD + 2);
    std::thread::scope(|scope| {
        let reader_thread = move || loop {
            let mut block = empty_rx.try_recv().unwrap_or_else(|_| vec![0; BLOCK]);
            block.resize(BLOCK, 0);
            // One read per block, as it comes: a live feed on stdin is not held back.
            match reader.read(&mut block) {
                Ok(0) => return,
                Ok(n) => {
                    block.truncate(n);
                    if full_tx.send(Ok(block)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = full_tx.send(Err(e));
                    return;
                }
            }
        };
        std::thread::Builder::new()
            .name("sf-read".into())
            .spawn_scoped(scope, reader_thread)?;
        for block in full_rx.iter() {
            let block = block?;
            push_arrived(decoder, &block, sink);
            // The reader may have finished; then the block is dropped.
            let _ = empty_tx.try_send(block);
        }
        Ok(())
    })
}

fn read_tcp(
    addr: &str,
    decoder: &mut Decoder,
    backoff: Backoff,
    sink: &mut dyn Sink,
    name: &str,
) -> Result<(), IngestError> {
    let mut failures = 0u32;
    loop {
        match TcpStream::connect(addr) {
            Ok(mut stream) => {
                failures = 0;
                let _ = stream.set_nodelay(true);
                // A read error is a dropped feed: reconnect like after a close.
                let _ = pump(&mut stream, decoder, sink);
                // A dropped connection ends a line: never glue two sessions together.
                decoder.push(b"\n", sink);
            }
            Err(error) => {
                failures += 1;
                if backoff.max_attempts.is_some_and(|m| failures >= m) {
                    return Err(IngestError::Io {
                        source_name: name.to_string(),
                        error,
                    });
                }
            }
        }
        std::thread::sleep(backoff.delay(failures));
    }
}

fn read_udp(
    addr: &str,
    decoder: &mut Decoder,
    sink: &mut dyn Sink,
    name: &str,
) -> Result<(), IngestError> {
    let io_err = |error| IngestError::Io {
        source_name: name.to_string(),
        error,
    };
    let socket = UdpSocket::bind(addr).map_err(io_err)?;
    let mut buf = vec![0u8; 65_536];
    loop {
        let n = socket.recv(&mut buf).map_err(io_err)?;
        push_arrived(decoder, &buf[..n], sink);
        // Each datagram holds whole sentences: end a line that lacks a newline.
        if n > 0 && buf[n - 1] != b'\n' {
            decoder.push(b"\n", sink);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const LINE: &[u8] = b"!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C\n";

    #[test]
    fn counts_the_bytes_of_the_file_before_decompression() {
        let dir = std::env::temp_dir().join(format!("sf-ingest-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let path = dir.join("ais.nmea.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        for _ in 0..1000 {
            gz.write_all(LINE).expect("compress");
        }
        let bytes = gz.finish().expect("compress");
        std::fs::write(&path, &bytes).expect("write");

        let read = Arc::new(AtomicU64::new(0));
        let mut out: Vec<shadowfleet_decode::Decoded> = Vec::new();
        let report = read_source_counting(
            &Source::File(path),
            &DecoderConfig::default(),
            Backoff::default(),
            &mut out,
            Some(Arc::clone(&read)),
        )
        .expect("read");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(read.load(Ordering::Relaxed), bytes.len() as u64);
        assert_eq!(report.stats.lines, 1000);
        assert_eq!(out.len(), 1000);
    }
}
