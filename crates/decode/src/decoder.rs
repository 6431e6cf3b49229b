//! The sans-IO push decoder: bytes in, [`Decoded`] messages and [`Rejection`]s
//! out through a [`Sink`].
//!
//! The decoder owns no I/O: callers push whatever bytes they read (files,
//! sockets, stdin) with [`Decoder::push`], or whole lines with
//! [`Decoder::push_line`], and call [`Decoder::finish`] at the end. Every
//! buffer it holds is bounded: the partial line ([`DecoderConfig::max_line_bytes`]),
//! the fragments in flight ([`DecoderConfig::max_in_flight`] slots, evicted when
//! older than [`DecoderConfig::max_fragment_age`] sentences), and the tag block
//! groups. Decoding allocates nothing per message.
//!
//! Receive time, in order of precedence: the tag block `c:` (inherited across a
//! `g:` group), the USCG/NAIS trailing epoch field, the last Gatehouse `$PGHP`
//! header. A multipart message takes the first time among its fragments.

use shadowfleet_model::Timestamp;

use crate::bits::{Payload, PayloadError};
use crate::messages::{AisMessage, BodyError};
use crate::sentence::{self, Checksum, Sentence, SentenceError};
use crate::tag_block::{self, RawTagBlock};
use crate::text::AisText;

/// Tunables of the decoder. Defaults are safe for untrusted feeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Decode sentences whose checksum is wrong (they are flagged either way).
    pub accept_bad_checksum: bool,
    /// Longest line kept; longer lines are dropped whole and counted.
    /// NMEA 0183 caps a sentence at 82 characters; tag blocks and concatenated
    /// provider lines run longer, so the default leaves ample room.
    pub max_line_bytes: usize,
    /// Multipart messages in flight at once. Beyond this the oldest is evicted.
    pub max_in_flight: usize,
    /// A fragment waiting longer than this many sentences is evicted.
    pub max_fragment_age: u64,
    /// Drop a message whose payload is bit for bit that of a message received at most this
    /// many milliseconds earlier or later (one transmission heard by several receivers),
    /// counting it in [`DecodeStats::repeats`]. `None` (the default) keeps every message.
    /// Messages without a receive time are always kept.
    pub drop_repeats_within_ms: Option<u32>,
    /// Stamp a message that carries no receive time of its own with the arrival time of its
    /// bytes (given by the reader, [`Decoder::set_arrival_time`]), flagged
    /// [`Flags::ARRIVAL_TIME`]: for live feeds (TCP, UDP, a receiver piped to stdin), never
    /// for files, whose reading time says nothing.
    pub stamp_arrival: bool,
    /// The input's place among those a run reads, stamped on every message
    /// ([`Meta::input`]): where a stored position came from.
    pub input: u16,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        DecoderConfig {
            accept_bad_checksum: false,
            max_line_bytes: 4096,
            max_in_flight: 64,
            max_fragment_age: 1000,
            drop_repeats_within_ms: None,
            stamp_arrival: false,
            input: 0,
        }
    }
}

/// Flags on a decoded message, as a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(pub u16);

impl Flags {
    /// A fragment's checksum was wrong (decoded because the config allows it).
    pub const BAD_CHECKSUM: Flags = Flags(1);
    /// A fragment had no checksum.
    pub const MISSING_CHECKSUM: Flags = Flags(1 << 1);
    /// A tag block's checksum was missing or wrong.
    pub const BAD_TAG_BLOCK: Flags = Flags(1 << 2);
    /// Payload shorter than the type's nominal length (missing fields read as 0).
    pub const SHORT: Flags = Flags(1 << 3);
    /// Payload longer than the type's nominal length.
    pub const LONG: Flags = Flags(1 << 4);
    /// Text or binary data cut to the inline capacity.
    pub const TRUNCATED: Flags = Flags(1 << 5);
    /// Not from NMEA but from a decoded CSV archive row.
    pub const FROM_CSV: Flags = Flags(1 << 6);
    /// The receive time is the wall-clock arrival at this decoder (a live feed without
    /// times of its own), not a time the receiver wrote.
    pub const ARRIVAL_TIME: Flags = Flags(1 << 7);

    /// Every flag with its stable name, for output.
    pub const NAMES: [(Flags, &'static str); 8] = [
        (Flags::BAD_CHECKSUM, "bad_checksum"),
        (Flags::MISSING_CHECKSUM, "missing_checksum"),
        (Flags::BAD_TAG_BLOCK, "bad_tag_block"),
        (Flags::SHORT, "short"),
        (Flags::LONG, "long"),
        (Flags::TRUNCATED, "truncated"),
        (Flags::FROM_CSV, "from_csv"),
        (Flags::ARRIVAL_TIME, "arrival_time"),
    ];

    /// Whether every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Sets the flags of `other`.
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// Whether no flag is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Where and how a message was received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meta {
    /// Receive time, when the input carries one.
    pub received: Option<Timestamp>,
    /// Receiving station (tag block `s:` or USCG `r` field), cut to 24 characters.
    pub station: AisText<24>,
    /// Talker id of the (first) sentence.
    pub talker: [u8; 2],
    /// `VDO`: the receiver's own ship.
    pub own_ship: bool,
    /// Radio channel.
    pub channel: Option<u8>,
    /// Flags.
    pub flags: Flags,
    /// Line number (from 1) of the message's last sentence.
    pub line: u64,
    /// Number of fragments.
    pub fragments: u8,
    /// Payload length in bits.
    pub bits: u16,
    /// Byte offset, in the bytes pushed, of the line of the message's first sentence.
    pub offset: u64,
    /// Bytes from there to the end of its last sentence's line (terminator excluded); 0 for
    /// messages not read from lines (CSV rows).
    pub length: u32,
    /// [`DecoderConfig::input`].
    pub input: u16,
}

/// A decoded message with its reception metadata.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    /// The message.
    pub message: AisMessage,
    /// How it was received.
    pub meta: Meta,
}

/// Why input was not decoded. Each has a stable code for counters and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// A line that is neither AIS nor a header we use (GPS NMEA, junk).
    NotAis,
    /// `!..VD.` with too few fields.
    MissingFields,
    /// Fragment count/number/sequence id not valid.
    BadFragmentNumbers,
    /// Fill bits not 0..=5.
    BadFillBits,
    /// Checksum wrong and `accept_bad_checksum` is off.
    BadChecksum,
    /// A payload character outside the armouring alphabet.
    BadPayloadCharacter,
    /// Payload longer than we keep.
    PayloadTooLong,
    /// Empty payload.
    EmptyPayload,
    /// Fewer than 38 bits.
    TooShort,
    /// Message type 0 or above 27.
    UnknownType,
    /// Type 24 part number 2 or 3.
    UnknownPart,
    /// A fragment with no first part in flight, out of order, or evicted.
    OrphanFragment,
    /// A line longer than `max_line_bytes`.
    LineTooLong,
}

impl RejectReason {
    /// All reasons, in a stable order.
    pub const ALL: [RejectReason; 13] = [
        RejectReason::NotAis,
        RejectReason::MissingFields,
        RejectReason::BadFragmentNumbers,
        RejectReason::BadFillBits,
        RejectReason::BadChecksum,
        RejectReason::BadPayloadCharacter,
        RejectReason::PayloadTooLong,
        RejectReason::EmptyPayload,
        RejectReason::TooShort,
        RejectReason::UnknownType,
        RejectReason::UnknownPart,
        RejectReason::OrphanFragment,
        RejectReason::LineTooLong,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::NotAis => "not_ais",
            RejectReason::MissingFields => "missing_fields",
            RejectReason::BadFragmentNumbers => "bad_fragment_numbers",
            RejectReason::BadFillBits => "bad_fill_bits",
            RejectReason::BadChecksum => "bad_checksum",
            RejectReason::BadPayloadCharacter => "bad_payload_character",
            RejectReason::PayloadTooLong => "payload_too_long",
            RejectReason::EmptyPayload => "empty_payload",
            RejectReason::TooShort => "too_short",
            RejectReason::UnknownType => "unknown_type",
            RejectReason::UnknownPart => "unknown_type24_part",
            RejectReason::OrphanFragment => "orphan_fragment",
            RejectReason::LineTooLong => "line_too_long",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A rejected piece of input and where it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// Line number, from 1.
    pub line: u64,
    /// Why.
    pub reason: RejectReason,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason.code())
    }
}

/// Running counts of what the decoder saw.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DecodeStats {
    /// Lines seen.
    pub lines: u64,
    /// VDM/VDO sentences seen.
    pub sentences: u64,
    /// Messages decoded.
    pub messages: u64,
    /// Blank and `#` comment lines.
    pub comments: u64,
    /// Rejections by reason, indexed as [`RejectReason::ALL`].
    pub rejected: [u64; 13],
    /// Messages decoded despite a bad checksum.
    pub bad_checksum_accepted: u64,
    /// Messages decoded without a checksum.
    pub missing_checksum: u64,
    /// Messages dropped as repeats of one received just before
    /// ([`DecoderConfig::drop_repeats_within_ms`]); not counted in `messages`.
    pub repeats: u64,
}

impl DecodeStats {
    /// These counters less `before` (an earlier reading of the same decoder's).
    pub fn minus(&self, before: &DecodeStats) -> DecodeStats {
        let mut rejected = self.rejected;
        for (r, b) in rejected.iter_mut().zip(before.rejected) {
            *r = r.saturating_sub(b);
        }
        DecodeStats {
            lines: self.lines.saturating_sub(before.lines),
            sentences: self.sentences.saturating_sub(before.sentences),
            messages: self.messages.saturating_sub(before.messages),
            comments: self.comments.saturating_sub(before.comments),
            rejected,
            bad_checksum_accepted: self
                .bad_checksum_accepted
                .saturating_sub(before.bad_checksum_accepted),
            missing_checksum: self
                .missing_checksum
                .saturating_sub(before.missing_checksum),
            repeats: self.repeats.saturating_sub(before.repeats),
        }
    }

    /// Count for one reason.
    pub fn rejected(&self, r: RejectReason) -> u64 {
        self.rejected[r.index()]
    }

    /// All rejections.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.iter().sum()
    }
}

/// Receives the decoder's output.
pub trait Sink {
    /// A decoded message. The reference is valid for the call only.
    fn message(&mut self, msg: &Decoded);
    /// Rejected input. Counted in [`DecodeStats`] whether or not this is overridden.
    fn rejected(&mut self, _rejection: &Rejection) {}
}

impl Sink for Vec<Decoded> {
    fn message(&mut self, msg: &Decoded) {
        self.push(*msg);
    }
}

/// Adapts a closure into a [`Sink`] that ignores rejections.
pub struct FnSink<F>(pub F);

impl<F: FnMut(&Decoded)> Sink for FnSink<F> {
    fn message(&mut self, msg: &Decoded) {
        (self.0)(msg)
    }
}

/// What identifies a multipart message in flight, kept apart from its payload so that the
/// search for a fragment's message reads a few bytes per slot.
#[derive(Clone, Copy, Default)]
struct SlotKey {
    count: u8,
    sequence_id: Option<u8>,
    channel: Option<u8>,
    next: u8,
    born: u64,
}

/// A multipart message in flight.
#[derive(Default)]
struct Slot {
    meta: Meta,
    payload: Payload,
}

#[derive(Clone, Copy, Default)]
struct GroupInfo {
    id: u32,
    time: Option<Timestamp>,
    station: AisText<24>,
    age: u64,
}

/// Tag block groups remembered at once (each is a few sentences).
const GROUP_SLOTS: usize = 16;

/// The AIS decoder. See the module documentation.
pub struct Decoder {
    config: DecoderConfig,
    line: Vec<u8>,
    overlong: bool,
    line_no: u64,
    /// Byte offset of the next line to begin.
    pos: u64,
    /// Bytes of the line being buffered (kept or not).
    partial: u64,
    /// Offset and length of the line being decoded.
    current: (u64, u32),
    sentence_no: u64,
    keys: Vec<SlotKey>,
    /// The slots in use. Searches visit only them, in index order.
    in_use: SlotSet,
    slots: Vec<Slot>,
    single: Payload,
    groups: [GroupInfo; GROUP_SLOTS],
    /// The last Gatehouse `$PGHP` header: receive time and source station of the next sentence.
    pghp: Option<(Timestamp, AisText<24>)>,
    /// When the bytes being pushed arrived (live feeds).
    arrival: Option<Timestamp>,
    repeats: Option<RepeatFilter>,
    /// The repeat filter's key of the text of the sentence being decoded, if single-part.
    text_key: Option<u64>,
    stats: DecodeStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DecoderConfig::default())
    }
}

/// What the line-level context gives each sentence.
#[derive(Clone, Copy, Default)]
struct Context {
    time: Option<Timestamp>,
    station: AisText<24>,
    bad_tag: bool,
}

impl Decoder {
    /// A decoder with the given configuration. Allocates its bounded buffers once.
    pub fn new(config: DecoderConfig) -> Self {
        let slots = (0..config.max_in_flight.max(1))
            .map(|_| Slot::default())
            .collect();
        let keys = vec![SlotKey::default(); config.max_in_flight.max(1)];
        let in_use = SlotSet::new(keys.len());
        Decoder {
            line: Vec::with_capacity(config.max_line_bytes.min(1 << 16)),
            repeats: config.drop_repeats_within_ms.map(RepeatFilter::new),
            config,
            overlong: false,
            line_no: 0,
            pos: 0,
            partial: 0,
            current: (0, 0),
            sentence_no: 0,
            keys,
            in_use,
            slots,
            single: Payload::default(),
            groups: [GroupInfo::default(); GROUP_SLOTS],
            pghp: None,
            arrival: None,
            text_key: None,
            stats: DecodeStats::default(),
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    /// Heap bytes the decoder holds (line buffer and fragment slots). Bounded
    /// by the configuration whatever the input: hostile-input tests check it.
    pub fn heap_bytes(&self) -> usize {
        self.line.capacity()
            + self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.keys.capacity() * std::mem::size_of::<SlotKey>()
            + self.in_use.heap_bytes()
            + self.repeats.as_ref().map_or(0, RepeatFilter::heap_bytes)
    }

    /// The configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// The arrival time of the bytes pushed next, for [`DecoderConfig::stamp_arrival`].
    pub fn set_arrival_time(&mut self, t: Timestamp) {
        self.arrival = Some(t);
    }

    /// Bytes taken so far (complete lines and their terminators, and the part of a line
    /// still waiting for its end).
    pub fn position(&self) -> u64 {
        self.pos + self.partial
    }

    /// Pushes bytes; complete lines are decoded at once, a trailing partial line
    /// is kept (up to `max_line_bytes`) for the next push.
    pub fn push(&mut self, mut bytes: &[u8], sink: &mut dyn Sink) {
        while !bytes.is_empty() {
            match memchr::memchr(b'\n', bytes) {
                Some(nl) => {
                    let (head, tail) = bytes.split_at(nl);
                    bytes = &tail[1..];
                    if self.line.is_empty() && !self.overlong {
                        self.line_no += 1;
                        self.begin_line(head.len() as u64, true);
                        if head.len() > self.config.max_line_bytes {
                            self.reject(RejectReason::LineTooLong, sink);
                        } else {
                            self.decode_line(head, sink);
                        }
                    } else {
                        self.append_partial(head);
                        self.end_buffered_line(true, sink);
                    }
                }
                None => {
                    self.append_partial(bytes);
                    bytes = &[];
                }
            }
        }
    }

    /// The line now decoded: `len` bytes from the current position, then its terminator.
    fn begin_line(&mut self, len: u64, terminated: bool) {
        self.current = (self.pos, u32::try_from(len).unwrap_or(u32::MAX));
        self.pos += len + u64::from(terminated);
        self.partial = 0;
    }

    fn append_partial(&mut self, bytes: &[u8]) {
        self.partial += bytes.len() as u64;
        if self.overlong {
            return;
        }
        if self.line.len() + bytes.len() > self.config.max_line_bytes {
            self.overlong = true;
            self.line.clear();
        } else {
            self.line.extend_from_slice(bytes);
        }
    }

    fn end_buffered_line(&mut self, terminated: bool, sink: &mut dyn Sink) {
        self.line_no += 1;
        self.begin_line(self.partial, terminated);
        if self.overlong {
            self.overlong = false;
            self.reject(RejectReason::LineTooLong, sink);
            return;
        }
        let line = std::mem::take(&mut self.line);
        self.decode_line(&line, sink);
        self.line = line;
        self.line.clear();
    }

    /// Ends the input: decodes a last unterminated line and reports the
    /// fragments still in flight as orphans.
    pub fn finish(&mut self, sink: &mut dyn Sink) {
        if !self.line.is_empty() || self.overlong {
            self.end_buffered_line(false, sink);
        }
        while let Some(i) = self.in_use.first_from(0) {
            self.in_use.remove(i);
            let line = self.slots[i].meta.line;
            self.reject_at(line, RejectReason::OrphanFragment, sink);
        }
    }

    /// Decodes one line (without its line terminator). Counts it as a line.
    pub fn push_line(&mut self, line: &[u8], sink: &mut dyn Sink) {
        self.line_no += 1;
        self.begin_line(line.len() as u64, true);
        if line.len() > self.config.max_line_bytes {
            self.reject(RejectReason::LineTooLong, sink);
        } else {
            self.decode_line(line, sink);
        }
    }

    fn reject(&mut self, reason: RejectReason, sink: &mut dyn Sink) {
        self.reject_at(self.line_no, reason, sink);
    }

    fn reject_at(&mut self, line: u64, reason: RejectReason, sink: &mut dyn Sink) {
        reject_into(&mut self.stats, line, reason, sink);
    }

    fn decode_line(&mut self, line: &[u8], sink: &mut dyn Sink) {
        self.stats.lines += 1;
        let line = trim(line);
        if line.is_empty() || line[0] == b'#' {
            self.stats.comments += 1;
            return;
        }
        let Some(start) = line.iter().position(|&c| matches!(c, b'!' | b'\\' | b'$')) else {
            return self.reject(RejectReason::NotAis, sink);
        };
        let mut rest = &line[start..];
        let mut ctx = Context::default();
        let mut any = false;
        while let Some(&first) = rest.first() {
            match first {
                b'\\' => {
                    let Some((tb, after)) = tag_block::parse_raw(rest) else {
                        break;
                    };
                    self.apply_tag_block(&tb, &mut ctx);
                    rest = after;
                }
                b'!' => {
                    any = true;
                    rest = self.decode_sentence(rest, &mut ctx, sink);
                    self.text_key = None;
                    ctx = Context::default();
                }
                b'$' => {
                    if rest.starts_with(b"$PGHP") {
                        self.pghp = parse_pghp(rest).or(self.pghp);
                        any = true;
                    }
                    // Skip the rest of the `$` sentence, up to a tag block or `!` sentence
                    // glued onto the same line (as in `...*1D$PGHP,...`).
                    let next = rest.iter().skip(1).position(|&c| matches!(c, b'!' | b'\\'));
                    rest = next.map_or(&[][..], |n| &rest[n + 1..]);
                }
                _ => {
                    // Junk between sentences (e.g. a trailing quote): skip to the next start.
                    let next = rest.iter().position(|&c| matches!(c, b'!' | b'\\' | b'$'));
                    rest = next.map_or(&[][..], |n| &rest[n..]);
                }
            }
        }
        if !any {
            self.reject(RejectReason::NotAis, sink);
        }
    }

    fn apply_tag_block(&mut self, tb: &RawTagBlock<'_>, ctx: &mut Context) {
        ctx.bad_tag |= !tb.checksum_ok || tb.malformed;
        if let Some(t) = tb.time {
            ctx.time = Some(t);
        }
        if let Some(s) = tb.source {
            ctx.station = AisText::from_printable_bytes(s);
        }
        let Some(g) = tb.group else { return };
        let age = self.sentence_no;
        if let Some(known) = self
            .groups
            .iter()
            .find(|k| k.id == g.id && k.age + 64 > age)
        {
            // A later sentence of a known group inherits what the first one said.
            if ctx.time.is_none() {
                ctx.time = known.time;
            }
            if ctx.station.is_empty() {
                ctx.station = known.station;
            }
        } else if g.sentence == 1 {
            let oldest = self.groups.iter_mut().min_by_key(|k| k.age);
            if let Some(slot) = oldest {
                *slot = GroupInfo {
                    id: g.id,
                    time: ctx.time,
                    station: ctx.station,
                    age,
                };
            }
        }
    }

    /// With the repeat filter on, for a single-part sentence with a valid checksum: whether
    /// its payload and fill bits (as text) were decoded within the window, counted as a repeat
    /// if so. Otherwise notes their key for [`emit`] to remember. (The same payload text is the
    /// same bits, so this finds before de-armouring what the payload filter would after.)
    fn repeated(&mut self, s: &Sentence<'_>, ctx: &Context) -> bool {
        let (Some(filter), Some(t)) = (self.repeats.as_ref(), ctx.time) else {
            return false;
        };
        if s.fragment_count != 1 {
            return false;
        }
        let key = crate::bits::hash_bytes(s.payload, TEXT_SEED ^ u64::from(s.fill_bits));
        if filter.seen(key, t.unix_millis()) {
            self.stats.repeats += 1;
            return true;
        }
        self.text_key = Some(key);
        false
    }

    /// Decodes the sentence at the head of `s`; returns what follows it.
    fn decode_sentence<'l>(
        &mut self,
        s: &'l [u8],
        ctx: &mut Context,
        sink: &mut dyn Sink,
    ) -> &'l [u8] {
        let (sentence, rest) = match sentence::parse(s) {
            Ok(ok) => ok,
            Err(e) => {
                let reason = match e {
                    SentenceError::NotVdm => RejectReason::NotAis,
                    SentenceError::MissingFields => RejectReason::MissingFields,
                    SentenceError::BadFragmentNumbers => RejectReason::BadFragmentNumbers,
                    SentenceError::BadFillBits => RejectReason::BadFillBits,
                };
                self.stats.sentences += 1;
                self.reject(reason, sink);
                let next = s.iter().skip(1).position(|&c| matches!(c, b'!' | b'\\'));
                return next.map_or(&[][..], |n| &s[n + 1..]);
            }
        };
        self.stats.sentences += 1;
        self.sentence_no += 1;
        // USCG/NAIS trailing fields: `,s..,d..,T..,r<station>,<epoch>[,<epoch>]`.
        let (trailer, rest) = split_trailer(rest);
        if !trailer.is_empty() {
            apply_trailer(trailer, ctx);
        }
        if let Some((time, station)) = self.pghp.take() {
            if ctx.time.is_none() {
                ctx.time = Some(time);
            }
            if ctx.station.is_empty() {
                ctx.station = station;
            }
        }
        let mut flags = Flags::default();
        if ctx.time.is_none() && self.config.stamp_arrival {
            if let Some(t) = self.arrival {
                ctx.time = Some(t);
                flags.insert(Flags::ARRIVAL_TIME);
            }
        }
        if ctx.bad_tag {
            flags.insert(Flags::BAD_TAG_BLOCK);
        }
        match sentence.checksum {
            Checksum::Valid => {
                if self.repeated(&sentence, ctx) {
                    return rest;
                }
            }
            Checksum::Missing => flags.insert(Flags::MISSING_CHECKSUM),
            Checksum::Invalid { .. } => {
                if !self.config.accept_bad_checksum {
                    self.reject(RejectReason::BadChecksum, sink);
                    return rest;
                }
                flags.insert(Flags::BAD_CHECKSUM);
            }
        }
        let meta = Meta {
            received: ctx.time,
            station: ctx.station,
            talker: sentence.talker,
            own_ship: sentence.own_ship,
            channel: sentence.channel,
            flags,
            line: self.line_no,
            fragments: sentence.fragment_count,
            bits: 0,
            offset: self.current.0,
            length: self.current.1,
            input: self.config.input,
        };
        if sentence.fragment_count == 1 {
            self.decode_single(&sentence, meta, sink);
        } else {
            self.reassemble(&sentence, meta, sink);
        }
        rest
    }

    fn decode_single(&mut self, s: &Sentence<'_>, meta: Meta, sink: &mut dyn Sink) {
        if s.payload.is_empty() {
            return self.reject(RejectReason::EmptyPayload, sink);
        }
        self.single.clear();
        match self.single.push_armored(s.payload, s.fill_bits) {
            Ok(()) => emit(
                &mut self.stats,
                self.repeats.as_mut(),
                self.text_key.take(),
                &self.single,
                meta,
                sink,
            ),
            Err(e) => self.reject(payload_reason(e), sink),
        }
    }

    fn reassemble(&mut self, s: &Sentence<'_>, meta: Meta, sink: &mut dyn Sink) {
        self.evict_old(sink);
        let key_matches = |k: &SlotKey| {
            k.count == s.fragment_count && k.sequence_id == s.sequence_id && k.channel == s.channel
        };
        let found = self.in_use.iter().find(|&i| key_matches(&self.keys[i]));
        if s.fragment_number == 1 {
            if let Some(i) = found {
                // A new first part under the same key: the old message never finished.
                self.in_use.remove(i);
                let line = self.slots[i].meta.line;
                self.reject_at(line, RejectReason::OrphanFragment, sink);
            }
            let i = match (0..self.keys.len()).find(|&i| !self.in_use.contains(i)) {
                Some(i) => i,
                None => {
                    let i = self
                        .keys
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, k)| k.born)
                        .map_or(0, |(i, _)| i);
                    let line = self.slots[i].meta.line;
                    self.reject_at(line, RejectReason::OrphanFragment, sink);
                    i
                }
            };
            let slot = &mut self.slots[i];
            slot.payload.clear();
            if let Err(e) = slot.payload.push_armored(s.payload, 0) {
                self.in_use.remove(i);
                return self.reject(payload_reason(e), sink);
            }
            slot.meta = meta;
            self.in_use.insert(i);
            self.keys[i] = SlotKey {
                count: s.fragment_count,
                sequence_id: s.sequence_id,
                channel: s.channel,
                next: 2,
                born: self.sentence_no,
            };
            return;
        }
        let Some(i) = found.filter(|&i| self.keys[i].next == s.fragment_number) else {
            if let Some(i) = found {
                // Out of order: the message in flight cannot complete either.
                self.in_use.remove(i);
                let line = self.slots[i].meta.line;
                self.reject_at(line, RejectReason::OrphanFragment, sink);
            }
            return self.reject(RejectReason::OrphanFragment, sink);
        };
        let last = s.fragment_number == s.fragment_count;
        let slot = &mut self.slots[i];
        let fill = if last { s.fill_bits } else { 0 };
        if let Err(e) = slot.payload.push_armored(s.payload, fill) {
            self.in_use.remove(i);
            return self.reject(payload_reason(e), sink);
        }
        self.keys[i].next += 1;
        slot.meta.flags.insert(meta.flags);
        slot.meta.line = meta.line;
        slot.meta.length =
            u32::try_from((meta.offset + u64::from(meta.length)).saturating_sub(slot.meta.offset))
                .unwrap_or(u32::MAX);
        if slot.meta.received.is_none() {
            slot.meta.received = meta.received;
        }
        if slot.meta.station.is_empty() {
            slot.meta.station = meta.station;
        }
        if last {
            self.in_use.remove(i);
            emit(
                &mut self.stats,
                self.repeats.as_mut(),
                None,
                &slot.payload,
                slot.meta,
                sink,
            );
        }
    }

    fn evict_old(&mut self, sink: &mut dyn Sink) {
        let now = self.sentence_no;
        let max_age = self.config.max_fragment_age;
        let mut k = 0;
        while let Some(i) = self.in_use.first_from(k) {
            k = i + 1;
            if now.saturating_sub(self.keys[i].born) > max_age {
                self.in_use.remove(i);
                let line = self.slots[i].meta.line;
                self.reject_at(line, RejectReason::OrphanFragment, sink);
            }
        }
    }
}

/// Decodes a complete payload and hands the message (or its rejection) to the sink.
fn emit(
    stats: &mut DecodeStats,
    repeats: Option<&mut RepeatFilter>,
    text_key: Option<u64>,
    payload: &Payload,
    mut meta: Meta,
    sink: &mut dyn Sink,
) {
    if payload.len_bits() == 0 {
        return reject_into(stats, meta.line, RejectReason::EmptyPayload, sink);
    }
    if let (Some(filter), Some(t)) = (repeats, meta.received) {
        let t = t.unix_millis();
        match text_key {
            // A single-part message was checked by its payload text already.
            Some(text) => filter.remember(text, t),
            None => {
                let key = payload.hash();
                if filter.seen(key, t) {
                    stats.repeats += 1;
                    return;
                }
                filter.remember(key, t);
            }
        }
    }
    match AisMessage::decode(payload) {
        Ok((message, check)) => {
            meta.bits = payload.len_bits().min(u16::MAX as usize) as u16;
            if check.short {
                meta.flags.insert(Flags::SHORT);
            }
            if check.long {
                meta.flags.insert(Flags::LONG);
            }
            if check.truncated {
                meta.flags.insert(Flags::TRUNCATED);
            }
            if meta.flags.contains(Flags::BAD_CHECKSUM) {
                stats.bad_checksum_accepted += 1;
            }
            if meta.flags.contains(Flags::MISSING_CHECKSUM) {
                stats.missing_checksum += 1;
            }
            stats.messages += 1;
            sink.message(&Decoded { message, meta });
        }
        Err(e) => {
            let reason = match e {
                BodyError::TooShort => RejectReason::TooShort,
                BodyError::UnknownType(_) => RejectReason::UnknownType,
                BodyError::UnknownPart(_) => RejectReason::UnknownPart,
            };
            reject_into(stats, meta.line, reason, sink);
        }
    }
}

/// A set of slot indices, one bit each.
struct SlotSet(Vec<u64>);

impl SlotSet {
    /// An empty set of room for `n` slots.
    fn new(n: usize) -> Self {
        SlotSet(vec![0; n.div_ceil(64)])
    }

    fn heap_bytes(&self) -> usize {
        self.0.capacity() * 8
    }

    fn contains(&self, i: usize) -> bool {
        self.0[i / 64] >> (i % 64) & 1 == 1
    }

    fn insert(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn remove(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }

    /// The first slot in the set at or after `k`.
    fn first_from(&self, k: usize) -> Option<usize> {
        let mut w = k / 64;
        let mut bits = self.0.get(w)? & (!0u64 << (k % 64));
        while bits == 0 {
            w += 1;
            bits = *self.0.get(w)?;
        }
        Some(w * 64 + bits.trailing_zeros() as usize)
    }

    /// The slots in the set, in index order.
    fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        std::iter::successors(self.first_from(0), |&i| self.first_from(i + 1))
    }
}

/// Seed of the repeat filter's keys of sentence texts (payload keys are seeded by their
/// length in bits, so the two never meet).
const TEXT_SEED: u64 = 0x7e57_0000_0000_0001;

/// Recent payloads by hash, to recognise one transmission heard by several receivers: a
/// direct-mapped table (a newer payload takes the place of an older one with the same
/// index, so a repeat may go unrecognised, never the reverse but for a 64-bit hash
/// collision within the window).
struct RepeatFilter {
    window_ms: i64,
    /// (hash, receive time in ms) per index; hash 0 marks an empty entry.
    recent: Vec<(u64, i64)>,
}

impl RepeatFilter {
    /// Entries in the table: copies of one transmission arrive close together, so a small
    /// table (128 KiB, in cache) finds nearly all of them.
    const ENTRIES: usize = 1 << 13;

    fn new(window_ms: u32) -> Self {
        RepeatFilter {
            window_ms: i64::from(window_ms),
            recent: vec![(0, 0); Self::ENTRIES],
        }
    }

    fn heap_bytes(&self) -> usize {
        self.recent.capacity() * std::mem::size_of::<(u64, i64)>()
    }

    /// Whether `key` was remembered within the window around `t_ms`.
    fn seen(&self, key: u64, t_ms: i64) -> bool {
        let key = key.max(1);
        let entry = &self.recent[(key as usize) & (Self::ENTRIES - 1)];
        entry.0 == key && (t_ms - entry.1).abs() <= self.window_ms
    }

    /// Remembers `key` as received at `t_ms`.
    fn remember(&mut self, key: u64, t_ms: i64) {
        let key = key.max(1);
        self.recent[(key as usize) & (Self::ENTRIES - 1)] = (key, t_ms);
    }
}

fn reject_into(stats: &mut DecodeStats, line: u64, reason: RejectReason, sink: &mut dyn Sink) {
    stats.rejected[reason.index()] += 1;
    sink.rejected(&Rejection { line, reason });
}

fn payload_reason(e: PayloadError) -> RejectReason {
    match e {
        PayloadError::BadCharacter(_) => RejectReason::BadPayloadCharacter,
        PayloadError::TooLong => RejectReason::PayloadTooLong,
    }
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [rest @ .., last] = b {
        if last.is_ascii_whitespace() || *last == 0 {
            b = rest;
        } else {
            break;
        }
    }
    while let [first, rest @ ..] = b {
        if first.is_ascii_whitespace() || *first == 0 {
            b = rest;
        } else {
            break;
        }
    }
    b
}

/// Splits trailing `,field,...` after a checksum from what follows (another
/// tag block or sentence on the same line).
fn split_trailer(rest: &[u8]) -> (&[u8], &[u8]) {
    if rest.first() != Some(&b',') {
        return (&[], rest);
    }
    let end = rest
        .iter()
        .position(|&c| matches!(c, b'!' | b'\\' | b'$'))
        .unwrap_or(rest.len());
    (&rest[1..end], &rest[end..])
}

fn apply_trailer(trailer: &[u8], ctx: &mut Context) {
    for field in trailer.split(|&c| c == b',') {
        match field {
            [b'r', station @ ..] if !station.is_empty() && ctx.station.is_empty() => {
                ctx.station =
                    AisText::from_printable_lossy(std::str::from_utf8(station).unwrap_or(""));
            }
            f if ctx.time.is_none()
                && (f.len() == 10 || f.len() == 13)
                && f.iter().all(u8::is_ascii_digit) =>
            {
                let v: i64 = f.iter().fold(0, |a, &d| a * 10 + (d - b'0') as i64);
                ctx.time = Some(if f.len() == 13 {
                    Timestamp(v)
                } else {
                    Timestamp::from_unix_seconds(v)
                });
            }
            _ => {}
        }
    }
}

/// `$PGHP,1,<year>,<month>,<day>,<hour>,<minute>,<second>,<millis>,<country>,<region>,<source>,...*hh`
/// (Gatehouse header carrying the receive time and the source station, the MMSI of the
/// base station that heard it, of the next sentence).
fn parse_pghp(s: &[u8]) -> Option<(Timestamp, AisText<24>)> {
    let text = std::str::from_utf8(s).ok()?;
    let body = text.split('*').next()?;
    let mut f = body.split(',');
    let _tag = f.next()?;
    if f.next()? != "1" {
        return None;
    }
    let mut n = [0u32; 7];
    for v in n.iter_mut() {
        *v = f.next()?.trim().parse().ok()?;
    }
    let _country = f.next();
    let _region = f.next();
    let station = AisText::from_printable_lossy(f.next().unwrap_or("").trim());
    let time = Timestamp::from_utc(n[0] as i64, n[1], n[2], n[3], n[4], n[5], n[6])?;
    Some((time, station))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_sets_find_their_slots_across_words() {
        let mut set = SlotSet::new(200);
        for i in [0, 63, 64, 130, 199] {
            set.insert(i);
        }
        set.remove(63);
        assert_eq!(set.iter().collect::<Vec<_>>(), [0, 64, 130, 199]);
        assert_eq!(set.first_from(1), Some(64));
        assert_eq!(set.first_from(65), Some(130));
        assert_eq!(set.first_from(200), None);
        assert_eq!(set.first_from(1000), None);
        assert!(set.contains(130) && !set.contains(63));
    }

    fn decode_all(input: &str) -> (Vec<Decoded>, DecodeStats) {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        d.push(input.as_bytes(), &mut out);
        d.finish(&mut out);
        (out, d.stats().clone())
    }

    #[test]
    fn interleaved_multipart_messages() {
        let input = "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C\n\
                     !AIVDM,2,1,2,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1F\n\
                     $GPGGA,junk\n\
                     !AIVDM,2,2,2,A,88888888880,2*26\n\
                     !AIVDM,2,2,1,A,88888888880,2*25\n";
        let (out, stats) = decode_all(input);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].meta.line, 4);
        assert_eq!(out[0].meta.bits, 424);
        assert_eq!(stats.rejected(RejectReason::NotAis), 1);
    }

    #[test]
    fn tag_block_group_inherits_time() {
        let input = "\\g:1-2-1278,s:66,c:1661782369*43\\!AIVDM,2,1,3,A,56=nR7D00003A<I@E=@TmDh637OS60mA:222220N1@6427?P00888888,0*66\n\
                     \\g:2-2-1278*51\\!AIVDM,2,2,3,A,888888888888880,2*27\n";
        let (out, _) = decode_all(input);
        assert_eq!(out.len(), 1);
        assert_eq!(
            out[0].meta.received,
            Some(Timestamp::from_unix_seconds(1_661_782_369))
        );
        assert_eq!(out[0].meta.station.as_str(), "66");
    }

    #[test]
    fn bounded_in_flight_state() {
        let mut d = Decoder::new(DecoderConfig {
            max_in_flight: 4,
            ..Default::default()
        });
        let mut out = Vec::new();
        for i in 0..100 {
            let line = format!("!AIVDM,2,1,{},A,55?MbV02;H;s<HtKR20EHE:0,0*00\n", i % 10);
            d.push(line.as_bytes(), &mut out);
        }
        d.finish(&mut out);
        assert_eq!(d.stats().rejected(RejectReason::BadChecksum), 100);
        let mut d = Decoder::new(DecoderConfig {
            max_in_flight: 4,
            accept_bad_checksum: true,
            ..Default::default()
        });
        for i in 0..100 {
            let line = format!("!AIVDM,3,1,{},A,55?MbV02;H;s<HtKR20EHE:0,0*00\n", i % 10);
            d.push(line.as_bytes(), &mut out);
        }
        d.finish(&mut out);
        assert_eq!(d.stats().rejected(RejectReason::OrphanFragment), 100);
        assert_eq!(d.slots.len(), 4);
    }

    #[test]
    fn repeats_within_the_window_are_dropped() {
        // One transmission heard by two stations 1 s apart, again 5 s later, another ship's
        // report between them, and a copy without a receive time.
        let a = "!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A";
        let b = "!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B";
        let input = format!(
            "\\s:r1,c:1000*00\\{a}\n\\s:r2,c:1001*00\\{a}\n\\c:1001*00\\{b}\n\\c:1006*00\\{a}\n{a}\n"
        );
        let mut d = Decoder::new(DecoderConfig {
            drop_repeats_within_ms: Some(2000),
            ..Default::default()
        });
        let mut out = Vec::new();
        d.push(input.as_bytes(), &mut out);
        d.finish(&mut out);
        let times: Vec<Option<i64>> = out
            .iter()
            .map(|m| m.meta.received.map(|t| t.unix_millis() / 1000))
            .collect();
        assert_eq!(times, [Some(1000), Some(1001), Some(1006), None]);
        assert_eq!((d.stats().repeats, d.stats().messages), (1, 4));
        // Off by default: every copy is a message.
        let (out, stats) = decode_all(&input);
        assert_eq!((out.len(), stats.repeats), (5, 0));
    }

    #[test]
    fn pghp_sets_receive_time() {
        let input = "$PGHP,1,2010,6,11,11,46,11,390,231,45,992190934,1,2B*5B\n\
                     !AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B\n";
        let (out, _) = decode_all(input);
        assert_eq!(
            out[0].meta.received.map(|t| t.to_string()).as_deref(),
            Some("2010-06-11T11:46:11.390Z")
        );
        assert_eq!(out[0].meta.station.as_str(), "992190934");
    }

    #[test]
    fn live_feeds_stamp_untimed_lines_with_their_arrival() {
        let untimed = b"!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B\n";
        let timed = b"\\c:1334337317*32\\!AIVDM,1,1,,B,402=481uaUcf;OQ55JS9ITi025Jp,0*2B\n";
        let arrived = Timestamp::from_unix_seconds(1_800_000_000);
        let mut d = Decoder::new(DecoderConfig {
            stamp_arrival: true,
            ..Default::default()
        });
        let mut out = Vec::new();
        d.set_arrival_time(arrived);
        d.push(untimed, &mut out);
        d.push(timed, &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].meta.received, Some(arrived));
        assert!(out[0].meta.flags.contains(Flags::ARRIVAL_TIME));
        // A time the receiver wrote wins and is not flagged.
        assert_eq!(
            out[1].meta.received,
            Some(Timestamp::from_unix_seconds(1_334_337_317))
        );
        assert!(!out[1].meta.flags.contains(Flags::ARRIVAL_TIME));
        // Files are never stamped.
        let (files, _) = decode_all(std::str::from_utf8(untimed).unwrap_or_default());
        assert_eq!(files[0].meta.received, None);
    }

    #[test]
    fn overlong_line_is_dropped_and_counted() {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        let big = vec![b'x'; 10_000];
        d.push(&big, &mut out);
        d.push(
            b"\n!AIVDM,1,1,,A,15RTgt0PAso;90TKcjM8h6g208CQ,0*4A\n",
            &mut out,
        );
        d.finish(&mut out);
        assert_eq!(d.stats().rejected(RejectReason::LineTooLong), 1);
        assert_eq!(out.len(), 1);
        assert!(d.line.capacity() <= 4096);
    }
}
