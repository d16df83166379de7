//! Log timestamps → UTC.
//!
//! Three kinds of time appear in apiserver logs:
//!
//! - **Full timestamps with an offset**: CRI and docker lines, `kubectl logs --timestamps`,
//!   journald `short-iso` and `json` (`__REALTIME_TIMESTAMP`, µs since the epoch), JSON logging's
//!   `ts` (ms since the epoch, as a float). These convert to UTC exactly.
//! - **Yearless local times**: klog's `mmdd hh:mm:ss.uuuuuu` header and journald `short`'s
//!   `Mon dd hh:mm:ss` (klog/klog.go `formatHeader`; journalctl prints in the reader's zone). They
//!   need a year and an offset.
//! - A yearless time **inside** a full one (klog inside CRI, journald json, kubectl): the year and the
//!   offset are inferred from the enclosing timestamp, which the runtime wrote microseconds later.
//!
//! A yearless time without an enclosing timestamp takes its year from `--year` (the year of the
//! file's first dated line) and advances it when the month goes backwards by half a year or more
//! (December → January). It becomes UTC with `--tz`; otherwise the event is flagged `local`, or
//! `no-year` when the year is unknown too.

use serde::Serialize;

/// Microseconds since the Unix epoch (UTC).
pub type Micros = i64;

const MICROS_PER_SEC: i64 = 1_000_000;
const MICROS_PER_MIN: i64 = 60 * MICROS_PER_SEC;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// The year used for the internal timeline of files whose year is unknown. A leap year, so that
/// `Feb 29` lines keep their place.
const PSEUDO_YEAR: i32 = 2000;

/// A fixed UTC offset in minutes east of UTC, as `--tz +HH:MM` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Offset(pub i32);

impl Offset {
    /// Parses `+HH:MM`, `-HH:MM`, `+HHMM`, `+HH`, `Z` or `UTC`. Offsets beyond ±14:00 are refused.
    pub fn parse(s: &str) -> Option<Offset> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
            return Some(Offset(0));
        }
        let (sign, rest) = match s.as_bytes().first()? {
            b'+' => (1, &s[1..]),
            b'-' => (-1, &s[1..]),
            _ => return None,
        };
        let digits: String = rest.chars().filter(|c| *c != ':').collect();
        if !digits.bytes().all(|b| b.is_ascii_digit()) || rest.matches(':').count() > 1 {
            return None;
        }
        let (h, m) = match digits.len() {
            1 | 2 => (digits.parse::<i32>().ok()?, 0),
            4 => (
                digits[..2].parse::<i32>().ok()?,
                digits[2..].parse::<i32>().ok()?,
            ),
            _ => return None,
        };
        if m >= 60 || h * 60 + m > 14 * 60 {
            return None;
        }
        Some(Offset(sign * (h * 60 + m)))
    }

    fn micros(self) -> i64 {
        i64::from(self.0) * MICROS_PER_MIN
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). Out of
/// range days roll over (Feb 30 → Mar 1), which is what a mis-typed log date deserves.
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01: `(year, month, day)`.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A wall-clock time without a year or zone: klog's and journald short's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalStamp {
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
}

impl LocalStamp {
    /// The stamp in `year` read as if it were UTC.
    fn micros_in(&self, year: i32) -> Micros {
        days_from_civil(year, self.month, self.day) * MICROS_PER_DAY
            + i64::from(self.hour * 3600 + self.minute * 60 + self.second) * MICROS_PER_SEC
            + i64::from(self.micros)
    }

    /// Is this a plausible calendar time? (Checked by parsers before building one.)
    pub fn is_valid(&self) -> bool {
        (1..=12).contains(&self.month)
            && (1..=31).contains(&self.day)
            && self.hour < 24
            && self.minute < 60
            && self.second < 61
            && self.micros < 1_000_000
    }
}

/// How far an event's time can be trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TimeBasis {
    /// Converted to UTC (an exact timestamp, an enclosing one, or `--tz`).
    Utc,
    /// The year is known but the offset is not: the clock of the logging host. Pass `--tz`.
    Local,
    /// Neither year nor offset known: written `--MM-DDThh:mm:ss.ffffff`. Pass `--year` (and `--tz`).
    NoYear,
    /// The record carried no time at all (pasted client output): written `unknown`.
    Unknown,
}

/// A resolved event time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventTime {
    /// UTC `2021-11-16T20:09:52.635602Z`, local `2021-11-16T20:09:52.635602` or no-year
    /// `--11-16T20:09:52.635602`, per `basis`.
    pub text: String,
    pub basis: TimeBasis,
    /// Microseconds on the file's timeline: UTC for `Utc`, the local clock read as UTC otherwise
    /// (with the pseudo year 2000 + rollovers for `NoYear`). Good for intervals within a file and
    /// for ordering; only `Utc` values compare across files.
    pub micros: Micros,
}

impl EventTime {
    pub fn utc(micros: Micros) -> EventTime {
        EventTime {
            text: format_utc(micros),
            basis: TimeBasis::Utc,
            micros,
        }
    }
}

/// `2021-11-16T20:09:52.635602Z`.
pub fn format_utc(micros: Micros) -> String {
    let mut s = format_naive(micros, true);
    s.push('Z');
    s
}

/// A timeline position written as its basis allows: `…Z` for UTC, no zone for local, no year
/// (`--MM-DD…`) for no-year times, whose timeline year is the pseudo year.
pub fn format_on(micros: Micros, basis: TimeBasis) -> String {
    match basis {
        TimeBasis::Utc => format_utc(micros),
        TimeBasis::Local => format_naive(micros, true),
        TimeBasis::NoYear | TimeBasis::Unknown => format_naive(micros, false),
    }
}

fn format_naive(micros: Micros, with_year: bool) -> String {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let rem = micros.rem_euclid(MICROS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let secs = rem / MICROS_PER_SEC;
    let frac = rem % MICROS_PER_SEC;
    let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
    if with_year && !(0..=9999).contains(&y) {
        // Only a hostile or mis-typed stamp gets here: `{:04}` says what a sign or a fifth
        // digit looks like.
        return format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:06}");
    }
    // Every event of an error-only log is dated: digits are written directly, not through
    // `format!` (which was a fifth of the time of such a log). Capacity for `format_utc`'s `Z`.
    let mut s = String::with_capacity(28);
    if with_year {
        push_digits(&mut s, y, 4);
        s.push('-');
    } else {
        s.push_str("--");
    }
    push_digits(&mut s, i64::from(m), 2);
    s.push('-');
    push_digits(&mut s, i64::from(d), 2);
    s.push('T');
    push_digits(&mut s, hh, 2);
    s.push(':');
    push_digits(&mut s, mm, 2);
    s.push(':');
    push_digits(&mut s, ss, 2);
    s.push('.');
    push_digits(&mut s, frac, 6);
    s
}

/// The last `width` decimal digits of `v` (`0 <= v`), zero-padded.
fn push_digits(s: &mut String, v: i64, width: usize) {
    let mut buf = [b'0'; 8];
    let mut v = v.unsigned_abs();
    for b in buf[..width].iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
    s.extend(buf[..width].iter().map(|&b| char::from(b)));
}

/// Parses an RFC 3339 timestamp as container runtimes and journalctl write it:
/// `2021-11-16T20:09:52.635602123Z`, `…+01:00`, `…+0100` (journalctl `short-iso`), fraction
/// optional and cut to microseconds. Returns UTC microseconds and the byte length consumed.
pub fn parse_rfc3339(b: &[u8]) -> Option<(Micros, usize)> {
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)? as i32;
    if b[4] != b'-' || b[7] != b'-' || !(b[10] == b'T' || b[10] == b't') {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hour, minute, second) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut micros: u32 = 0;
    if b.get(i) == Some(&b'.') || b.get(i) == Some(&b',') {
        (micros, i) = fraction_micros(b, i + 1)?;
    }
    let offset_minutes: i64 = match b.get(i) {
        Some(b'Z') | Some(b'z') => {
            i += 1;
            0
        }
        Some(&c @ (b'+' | b'-')) => {
            let h = digits(b, i + 1, 2)?;
            let (m, len) = if b.get(i + 3) == Some(&b':') {
                (digits(b, i + 4, 2)?, 6)
            } else if let Some(m) = digits(b, i + 3, 2) {
                (m, 5)
            } else {
                (0, 3)
            };
            if h > 14 || m > 59 {
                return None;
            }
            i += len;
            let v = i64::from(h * 60 + m);
            if c == b'-' {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let t = days_from_civil(year, month, day) * MICROS_PER_DAY
        + i64::from(hour * 3600 + minute * 60 + second) * MICROS_PER_SEC
        + i64::from(micros)
        - offset_minutes * MICROS_PER_MIN;
    Some((t, i))
}

/// The decimal fraction of a second at `b[at..]` (1 to any number of digits, cut to microseconds):
/// `(microseconds, end offset)`. None when there is no digit.
pub(crate) fn fraction_micros(b: &[u8], at: usize) -> Option<(u32, usize)> {
    let digits = b
        .get(at..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return None;
    }
    let mut micros: u32 = 0;
    for k in 0..6 {
        let d = if k < digits { b[at + k] - b'0' } else { 0 };
        micros = micros * 10 + u32::from(d);
    }
    Some((micros, at + digits))
}

/// `n` ASCII digits at `b[at..]` as a number.
pub(crate) fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    let s = b.get(at..at.checked_add(n)?)?;
    let mut v: u32 = 0;
    for &c in s {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Follows the year through a file whose times carry none.
///
/// `--year` names the year of the file's first dated line. Each observed month that is at least
/// six months before the previous one (December → January) starts a new year. Without `--year`
/// the same rollovers are counted on the pseudo year 2000, so intervals stay right.
#[derive(Clone, Debug)]
pub struct YearTracker {
    base: Option<i32>,
    rollovers: i32,
    last_month: Option<u32>,
}

impl YearTracker {
    pub fn new(year: Option<i32>) -> YearTracker {
        YearTracker {
            base: year,
            rollovers: 0,
            last_month: None,
        }
    }

    /// Records a line's month, in file order, and returns `(year, known)` for it.
    pub fn observe(&mut self, month: u32) -> (i32, bool) {
        if let Some(last) = self.last_month {
            if month + 6 <= last {
                self.rollovers += 1;
            }
        }
        self.last_month = Some(month);
        match self.base {
            Some(y) => (y.saturating_add(self.rollovers), true),
            None => (PSEUDO_YEAR + self.rollovers, false),
        }
    }
}

/// Resolves a yearless local stamp.
///
/// With an enclosing UTC timestamp, the year is the one that puts the stamp nearest to it and the
/// offset is the difference rounded to 15 minutes (zones are whole quarter hours); beyond ±14 h
/// the stamp is not trusted and the enclosing time is used. Otherwise the year tracker and `tz`
/// decide. The tracker is told about every stamp it is not bypassed for, in file order.
pub fn resolve_local(
    stamp: &LocalStamp,
    enclosing: Option<Micros>,
    tracker: &mut YearTracker,
    tz: Option<Offset>,
) -> EventTime {
    if let Some(enc) = enclosing {
        let (ey, _, _) = civil_from_days(enc.div_euclid(MICROS_PER_DAY));
        let ey = ey as i32;
        let best = [ey - 1, ey, ey + 1]
            .into_iter()
            .map(|y| stamp.micros_in(y))
            .min_by_key(|t| (t - enc).unsigned_abs());
        if let Some(local) = best {
            let diff = local - enc;
            let quarter = 15 * MICROS_PER_MIN;
            let offset = (diff + diff.signum() * quarter / 2) / quarter * quarter;
            if offset.abs() <= 14 * 60 * MICROS_PER_MIN {
                return EventTime::utc(local - offset);
            }
        }
        return EventTime::utc(enc);
    }
    let (year, known) = tracker.observe(stamp.month);
    let local = stamp.micros_in(year);
    match (known, tz) {
        (true, Some(off)) => EventTime::utc(local - off.micros()),
        (true, None) => EventTime {
            text: format_naive(local, true),
            basis: TimeBasis::Local,
            micros: local,
        },
        (false, _) => EventTime {
            text: format_naive(local, false),
            basis: TimeBasis::NoYear,
            micros: local,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(month: u32, day: u32, h: u32, m: u32, s: u32, us: u32) -> LocalStamp {
        LocalStamp {
            month,
            day,
            hour: h,
            minute: m,
            second: s,
            micros: us,
        }
    }

    #[test]
    fn formatting_matches_format_macro() {
        let reference = |micros: Micros, with_year: bool| {
            let days = micros.div_euclid(MICROS_PER_DAY);
            let rem = micros.rem_euclid(MICROS_PER_DAY);
            let (y, m, d) = civil_from_days(days);
            let secs = rem / MICROS_PER_SEC;
            let frac = rem % MICROS_PER_SEC;
            let (hh, mm, ss) = (secs / 3600, secs / 60 % 60, secs % 60);
            if with_year {
                format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:06}")
            } else {
                format!("--{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.{frac:06}")
            }
        };
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut cases = vec![
            0,
            -1,
            1,
            253_402_300_799_999_999,
            253_402_300_800_000_000,
            -62_167_219_200_000_000,
            -62_167_219_200_000_001,
            i64::MAX,
            i64::MIN,
        ];
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push((x as i64) >> (x % 20));
        }
        for t in cases {
            for with_year in [true, false] {
                assert_eq!(format_naive(t, with_year), reference(t, with_year), "{t}");
            }
        }
    }

    #[test]
    fn civil_round_trip() {
        for z in [-1_000_000i64, -1, 0, 1, 10_957, 18_947, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y as i32, m, d), z);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn rfc3339_forms() {
        let (t, n) = parse_rfc3339(b"2021-11-16T20:09:52.635602123Z stderr F x").unwrap();
        assert_eq!(
            (format_utc(t), n),
            ("2021-11-16T20:09:52.635602Z".into(), 30)
        );
        let (t, _) = parse_rfc3339(b"2021-11-16T21:09:52.5+01:00").unwrap();
        assert_eq!(format_utc(t), "2021-11-16T20:09:52.500000Z");
        let (t, n) = parse_rfc3339(b"2021-11-16T15:09:52-0500 host").unwrap();
        assert_eq!(
            (format_utc(t), n),
            ("2021-11-16T20:09:52.000000Z".into(), 24)
        );
        assert!(parse_rfc3339(b"2021-13-16T20:09:52Z").is_none());
        assert!(parse_rfc3339(b"2021-11-16T20:09:52").is_none());
        assert!(parse_rfc3339(b"2021-11-16 20:09:52Z").is_none());
        assert!(parse_rfc3339(b"\xff\xff").is_none());
    }

    #[test]
    fn offsets() {
        assert_eq!(Offset::parse("+05:30"), Some(Offset(330)));
        assert_eq!(Offset::parse("-0800"), Some(Offset(-480)));
        assert_eq!(Offset::parse("+02"), Some(Offset(120)));
        assert_eq!(Offset::parse("Z"), Some(Offset(0)));
        assert_eq!(Offset::parse("+15:00"), None);
        assert_eq!(Offset::parse("05:00"), None);
        assert_eq!(Offset::parse("+5:3:0"), None);
    }

    #[test]
    fn year_rollover_december_to_january() {
        let mut t = YearTracker::new(Some(2021));
        let a = resolve_local(&stamp(12, 31, 23, 59, 59, 1), None, &mut t, Some(Offset(0)));
        let b = resolve_local(&stamp(1, 1, 0, 0, 1, 0), None, &mut t, Some(Offset(0)));
        assert_eq!(a.text, "2021-12-31T23:59:59.000001Z");
        assert_eq!(b.text, "2022-01-01T00:00:01.000000Z");
        assert_eq!(b.micros - a.micros, 1_999_999);
        // A small step back (clock skew, interleaved writers) is not a new year.
        let c = resolve_local(&stamp(1, 1, 0, 0, 0, 5), None, &mut t, None);
        assert_eq!(
            (c.text.as_str(), c.basis),
            ("2022-01-01T00:00:00.000005", TimeBasis::Local)
        );
    }

    #[test]
    fn unknown_year_and_zone() {
        let mut t = YearTracker::new(None);
        let a = resolve_local(&stamp(11, 16, 20, 9, 52, 635_602), None, &mut t, None);
        assert_eq!(
            (a.text.as_str(), a.basis),
            ("--11-16T20:09:52.635602", TimeBasis::NoYear)
        );
        let mut t = YearTracker::new(Some(2021));
        let b = resolve_local(
            &stamp(11, 16, 20, 9, 52, 0),
            None,
            &mut t,
            Some(Offset(-300)),
        );
        assert_eq!(b.text, "2021-11-17T01:09:52.000000Z");
    }

    #[test]
    fn enclosing_timestamp_gives_year_and_offset() {
        let mut t = YearTracker::new(None);
        // klog in UTC+01:00, runtime stamp in UTC 130 µs later.
        let (enc, _) = parse_rfc3339(b"2021-11-16T19:09:52.635732Z").unwrap();
        let e = resolve_local(&stamp(11, 16, 20, 9, 52, 635_602), Some(enc), &mut t, None);
        assert_eq!(e.text, "2021-11-16T19:09:52.635602Z");
        // New Year's Eve in a local zone ahead of UTC: the klog stamp is already in January.
        let (enc, _) = parse_rfc3339(b"2021-12-31T23:30:00.000100Z").unwrap();
        let e = resolve_local(&stamp(1, 1, 1, 30, 0, 0), Some(enc), &mut t, None);
        assert_eq!(e.text, "2021-12-31T23:30:00.000000Z");
        // Nonsense stamp: fall back to the enclosing time.
        let e = resolve_local(&stamp(6, 1, 0, 0, 0, 0), Some(enc), &mut t, None);
        assert_eq!(e.text, "2021-12-31T23:30:00.000100Z");
    }
}
