//! Durations written the way aws-vault (Go's `time.ParseDuration`) writes them: `1h`, `90m`,
//! `3600s`, `1h30m`, `1.5h`. A bare number other than `0` is rejected, as Go rejects it.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason} (write it like 1h, 30m, 90s or 1h30m)")]
pub struct ParseError {
    input: String,
    reason: &'static str,
}

/// Parses a Go duration. Negative durations are refused: nothing in vault can use one.
pub fn parse(input: &str) -> Result<Duration, ParseError> {
    let fail = |reason| ParseError {
        input: input.to_owned(),
        reason,
    };
    let text = input.trim();
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.starts_with('-') {
        return Err(fail("it is negative"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(fail("it is empty"));
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| fail("a number has no unit"))?;
        if number_len == 0 {
            return Err(fail("a unit has no number"));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| fail("a number is malformed"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(fail("the unit is not one of ns, us, ms, s, m, h")),
        };
        total += number * seconds_per_unit;
        rest = &rest[unit_len..];
    }
    Duration::try_from_secs_f64(total).map_err(|_| fail("it is too large"))
}

/// Formats like Go's `Duration.String()` truncated to whole seconds: `7h59m12s`, `-1m5s`, `0s`.
pub fn format_seconds(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (h, m, s) = (s / 3600, (s % 3600) / 60, s % 60);
    match (h, m) {
        (0, 0) => format!("{sign}{s}s"),
        (0, _) => format!("{sign}{m}m{s}s"),
        _ => format!("{sign}{h}h{m}m{s}s"),
    }
}

/// Durations in serialised data (resolved chains, plans) are whole seconds, as STS takes them.
pub(crate) fn serialize_seconds<S: serde::Serializer>(
    duration: &Duration,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_u64(duration.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_forms_aws_vault_accepts() {
        assert_eq!(parse("1h"), Ok(Duration::from_hours(1)));
        assert_eq!(parse("90m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("3600s"), Ok(Duration::from_hours(1)));
        assert_eq!(parse("1h30m"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("1.5h"), Ok(Duration::from_mins(90)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn rejects_bare_numbers_unknown_units_and_negatives() {
        for bad in ["15", "1d", "h", "", "-1h", "1h-5m", "1..5h"] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn formats_like_go_truncated_to_seconds() {
        assert_eq!(format_seconds(28752), "7h59m12s");
        assert_eq!(format_seconds(65), "1m5s");
        assert_eq!(format_seconds(7), "7s");
        assert_eq!(format_seconds(0), "0s");
        assert_eq!(format_seconds(-65), "-1m5s");
        assert_eq!(format_seconds(3600), "1h0m0s");
    }
}
