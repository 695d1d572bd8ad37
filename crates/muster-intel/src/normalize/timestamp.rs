//! Timestamp parsing for the `timestamp` and `epoch_ms` coercions.
//!
//! Security tools write times in many shapes; this module reads the common ones and returns a
//! UTC instant: epoch seconds, milliseconds, microseconds or nanoseconds (told apart by
//! magnitude), RFC 3339 and ISO 8601 variants (`+0000` offsets, 7-digit fractions), RFC 2822,
//! `YYYY-MM-DD HH:MM:SS`, US `MM/DD/YYYY` with or without AM/PM, QRadar's `MMM dd yyyy
//! HH:mm:ss`, the Apache log format, syslog's `MMM dd HH:MM:SS` (no year: the year of the
//! reference time is taken, or the year before when that would put the time more than a day
//! in the future) and .NET's `/Date(ms)/`. Times without a zone are taken as UTC.

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc,
};
use serde_json::Value;

/// Longest text tried as a timestamp; longer strings are rejected without parsing.
const MAX_TIMESTAMP_LEN: usize = 64;

/// Formats with an explicit offset, tried after RFC 3339 and RFC 2822.
const ZONED_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f%z",
    "%Y-%m-%d %H:%M:%S%.f %z",
    "%d/%b/%Y:%H:%M:%S %z",
    "%a %b %d %H:%M:%S %z %Y",
];

/// Formats without a zone, read as UTC.
const NAIVE_FORMATS: &[&str] = &[
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S%.f %p",
    "%b %d %Y %H:%M:%S%.f",
    "%d %b %Y %H:%M:%S%.f",
    "%a %b %d %H:%M:%S %Y",
];

/// Parses a timestamp from a JSON number or string.
pub(crate) fn parse(value: &Value, reference: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    match value {
        Value::Number(number) => {
            if let Some(whole) = number.as_i64() {
                from_epoch_integer(whole)
            } else if let Some(real) = number.as_f64() {
                from_epoch_float(real)
            } else {
                Err(format!("{number} is out of range for a timestamp"))
            }
        }
        Value::String(text) => parse_text(text, reference),
        other => Err(format!(
            "expected a time, got {}",
            super::path::json_type(other)
        )),
    }
}

/// RFC 3339 in UTC with as many fraction digits as needed (`2024-01-15T10:21:33.123Z`).
pub(crate) fn to_rfc3339(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_text(raw: &str, reference: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("empty time".to_owned());
    }
    if text.len() > MAX_TIMESTAMP_LEN {
        return Err(format!(
            "time text is longer than {MAX_TIMESTAMP_LEN} characters"
        ));
    }
    if let Some(found) = parse_numeric_text(text) {
        return found;
    }
    if let Some(inner) = text
        .strip_prefix("/Date(")
        .and_then(|rest| rest.strip_suffix(")/"))
    {
        return parse_dotnet(inner);
    }
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return in_range(instant.with_timezone(&Utc));
    }
    if let Ok(instant) = DateTime::parse_from_rfc2822(text) {
        return in_range(instant.with_timezone(&Utc));
    }
    for format in ZONED_FORMATS {
        if let Ok(instant) = DateTime::parse_from_str(text, format) {
            return in_range(instant.with_timezone(&Utc));
        }
    }
    let without_zone = text
        .strip_suffix(" UTC")
        .or_else(|| text.strip_suffix(" GMT"))
        .or_else(|| text.strip_suffix('Z'))
        .unwrap_or(text);
    for format in NAIVE_FORMATS {
        if let Ok(naive) = NaiveDateTime::parse_from_str(without_zone, format) {
            return in_range(Utc.from_utc_datetime(&naive));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(without_zone, "%Y-%m-%d")
        && let Some(midnight) = date.and_hms_opt(0, 0, 0)
    {
        return in_range(Utc.from_utc_datetime(&midnight));
    }
    if let Some(instant) = parse_syslog(without_zone, reference) {
        return in_range(instant);
    }
    Err(format!(
        "`{text}` is not a time format this normaliser knows"
    ))
}

/// Digits with an optional sign and fraction: an epoch number written as text.
fn parse_numeric_text(text: &str) -> Option<Result<DateTime<Utc>, String>> {
    let unsigned = text.strip_prefix('-').unwrap_or(text);
    let mut parts = unsigned.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || fraction.is_some_and(|part| !digits(part)) {
        return None;
    }
    Some(match fraction {
        None => text
            .parse::<i64>()
            .map_err(|_| format!("{text} is out of range for a timestamp"))
            .and_then(from_epoch_integer),
        Some(_) => text
            .parse::<f64>()
            .map_err(|_| format!("{text} is not a number"))
            .and_then(from_epoch_float),
    })
}

/// `/Date(1705314093000)/` or `/Date(1705314093000+0100)/`: milliseconds since the epoch
/// (the offset only says where the time was written, the number is already UTC).
fn parse_dotnet(inner: &str) -> Result<DateTime<Utc>, String> {
    let end = inner
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(inner.len(), |(index, _)| index);
    let millis: i64 = inner[..end]
        .parse()
        .map_err(|_| format!("`/Date({inner})/` does not hold milliseconds"))?;
    Utc.timestamp_millis_opt(millis)
        .single()
        .ok_or_else(|| format!("{millis} ms is out of range"))
        .and_then(in_range)
}

fn parse_syslog(text: &str, reference: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let collapsed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let year = reference.year();
    let at_year = |year: i32| {
        NaiveDateTime::parse_from_str(&format!("{year} {collapsed}"), "%Y %b %d %H:%M:%S%.f")
            .ok()
            .map(|naive| Utc.from_utc_datetime(&naive))
    };
    let this_year = at_year(year)?;
    if this_year > reference + Duration::days(1) {
        at_year(year - 1)
    } else {
        Some(this_year)
    }
}

/// Epoch numbers: seconds below 10^11, milliseconds below 10^14, microseconds below 10^17,
/// nanoseconds above.
fn from_epoch_integer(value: i64) -> Result<DateTime<Utc>, String> {
    let magnitude = value.unsigned_abs();
    let instant = if magnitude < 100_000_000_000 {
        Utc.timestamp_opt(value, 0).single()
    } else if magnitude < 100_000_000_000_000 {
        Utc.timestamp_millis_opt(value).single()
    } else if magnitude < 100_000_000_000_000_000 {
        Utc.timestamp_micros(value).single()
    } else {
        Some(Utc.timestamp_nanos(value))
    };
    instant
        .ok_or_else(|| format!("{value} is out of range for a timestamp"))
        .and_then(in_range)
}

fn from_epoch_float(value: f64) -> Result<DateTime<Utc>, String> {
    if !value.is_finite() {
        return Err(format!("{value} is not a time"));
    }
    let magnitude = value.abs();
    let nanos_per_unit = if magnitude < 1e11 {
        1e9
    } else if magnitude < 1e14 {
        1e6
    } else if magnitude < 1e17 {
        1e3
    } else {
        1.0
    };
    let nanos = value * nanos_per_unit;
    if nanos.abs() >= 9.2e18 {
        return Err(format!("{value} is out of range for a timestamp"));
    }
    // Rounded to microseconds: floats carry no more precision than that at epoch scale.
    let micros = (nanos / 1e3).round() as i64;
    Utc.timestamp_micros(micros)
        .single()
        .ok_or_else(|| format!("{value} is out of range for a timestamp"))
        .and_then(in_range)
}

/// Accepts years 1900 to 9999: outside that a value is far more likely a wrong field than a
/// time, and RFC 3339 cannot write years past 9999.
fn in_range(instant: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if (1900..=9999).contains(&instant.year()) {
        Ok(instant)
    } else {
        Err(format!("year {} is outside 1900–9999", instant.year()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn reference() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 3, 1, 12, 0, 0).unwrap()
    }

    fn read(value: Value) -> String {
        to_rfc3339(parse(&value, reference()).unwrap())
    }

    #[test]
    fn reads_epoch_numbers_by_magnitude() {
        assert_eq!(read(json!(1705314093)), "2024-01-15T10:21:33Z");
        assert_eq!(read(json!(1705314093123_i64)), "2024-01-15T10:21:33.123Z");
        assert_eq!(
            read(json!(1705314093123456_i64)),
            "2024-01-15T10:21:33.123456Z"
        );
        assert_eq!(
            read(json!(1705314093123456789_i64)),
            "2024-01-15T10:21:33.123456789Z"
        );
        assert_eq!(read(json!(1705314093.25)), "2024-01-15T10:21:33.250Z");
        assert_eq!(read(json!("1705314093")), "2024-01-15T10:21:33Z");
        assert_eq!(read(json!("1705314093.5")), "2024-01-15T10:21:33.500Z");
    }

    #[test]
    fn reads_common_text_formats() {
        let cases = [
            ("2024-01-15T10:21:33Z", "2024-01-15T10:21:33Z"),
            ("2024-01-15T11:21:33.5+01:00", "2024-01-15T10:21:33.500Z"),
            (
                "2024-01-15T10:21:33.123456+0000",
                "2024-01-15T10:21:33.123456Z",
            ),
            (
                "2024-01-15T10:21:33.1234567Z",
                "2024-01-15T10:21:33.123456700Z",
            ),
            ("Mon, 15 Jan 2024 10:21:33 +0000", "2024-01-15T10:21:33Z"),
            ("2024-01-15 10:21:33", "2024-01-15T10:21:33Z"),
            ("2024-01-15 10:21:33.123", "2024-01-15T10:21:33.123Z"),
            ("2024-01-15 10:21:33 UTC", "2024-01-15T10:21:33Z"),
            ("1/15/2024 10:21:33 AM", "2024-01-15T10:21:33Z"),
            ("01/15/2024 22:21:33", "2024-01-15T22:21:33Z"),
            ("Jan 15 2024 10:21:33", "2024-01-15T10:21:33Z"),
            ("15/Jan/2024:11:21:33 +0100", "2024-01-15T10:21:33Z"),
            ("Jan 15 10:21:33", "2024-01-15T10:21:33Z"),
            ("Jan  5 10:21:33", "2024-01-05T10:21:33Z"),
            ("/Date(1705314093123)/", "2024-01-15T10:21:33.123Z"),
            ("/Date(1705314093123+0100)/", "2024-01-15T10:21:33.123Z"),
            ("2024-01-15", "2024-01-15T00:00:00Z"),
        ];
        for (text, expected) in cases {
            assert_eq!(read(json!(text)), expected, "{text}");
        }
    }

    #[test]
    fn syslog_times_in_the_future_belong_to_last_year() {
        assert_eq!(read(json!("Dec 31 23:59:59")), "2023-12-31T23:59:59Z");
    }

    #[test]
    fn rejects_what_is_not_a_time() {
        for bad in [
            json!("yesterday"),
            json!(""),
            json!(true),
            json!({"t": 1}),
            json!("9".repeat(100)),
            json!(1e300),
            json!("2024-13-45 10:00:00"),
            json!(-1e20),
        ] {
            assert!(parse(&bad, reference()).is_err(), "{bad}");
        }
    }
}
