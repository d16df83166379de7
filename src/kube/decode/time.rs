//! Go's time formats as Kubernetes JSON prints them.

/// `metav1.Time` (`time.RFC3339`, seconds) or, with `micros`, `metav1.MicroTime`
/// (`RFC3339Micro`, `2006-01-02T15:04:05.000000Z07:00`), always UTC
/// (apimachinery/pkg/apis/meta/v1/time.go, micro_time.go). None outside years 0–9999.
pub fn rfc3339(secs: i64, micros: Option<u32>) -> Option<String> {
    let s = crate::kube::object::rfc3339(secs)?;
    Some(match micros {
        None => s,
        Some(us) => format!("{}.{:06}Z", s.strip_suffix('Z')?, us.min(999_999)),
    })
}

/// Go's `time.Duration.String()` (src/time/time.go): `0s`, `1.5ms`, `2m30s`, `1h0m0s`.
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let u = ns.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        // Under a second: one unit with a fraction.
        let (unit, scale) = match u {
            0..=999 => ("ns", 1u64),
            1_000..=999_999 => ("µs", 1_000),
            _ => ("ms", 1_000_000),
        };
        out.push_str(&fraction(u, scale));
        out.push_str(unit);
    } else {
        let h = u / 3_600_000_000_000;
        let m = u / 60_000_000_000 % 60;
        let s = u % 60_000_000_000;
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if h > 0 || m > 0 {
            out.push_str(&format!("{m}m"));
        }
        out.push_str(&fraction(s, 1_000_000_000));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / scale` with the fraction's trailing zeros removed, as Go's `fmtFrac` does.
fn fraction(v: u64, scale: u64) -> String {
    let (int, frac) = (v / scale, v % scale);
    if frac == 0 {
        return int.to_string();
    }
    let digits = scale.ilog10() as usize;
    let f = format!("{frac:0digits$}");
    format!("{int}.{}", f.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        // Expected strings from Go's time package tests (src/time/time_test.go durationTests).
        for (ns, s) in [
            (0, "0s"),
            (1, "1ns"),
            (1_100, "1.1µs"),
            (2_200_000, "2.2ms"),
            (3_300_000_000, "3.3s"),
            (4 * 60_000_000_000 + 5_000_000_000, "4m5s"),
            (4 * 60_000_000_000 + 5_001_000_000, "4m5.001s"),
            (
                5 * 3_600_000_000_000 + 6 * 60_000_000_000 + 7_001_000_000,
                "5h6m7.001s",
            ),
            (8 * 60_000_000_000 + 1, "8m0.000000001s"),
            (3_600_000_000_000, "1h0m0s"),
            (-1_100, "-1.1µs"),
        ] {
            assert_eq!(go_duration(ns), s, "{ns}");
        }
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339(0, None).unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(1_600_000_000, Some(123_456)).unwrap(),
            "2020-09-13T12:26:40.123456Z"
        );
    }
}
