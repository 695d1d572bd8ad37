//! Timestamps as milliseconds since the Unix epoch, the unit every table uses.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// The current time in milliseconds.
pub fn now_millis() -> Millis {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

/// Formats milliseconds since the epoch as RFC 3339 UTC with milliseconds
/// (`2026-11-27T21:57:33.120Z`); out-of-range values print as the number.
pub fn format_millis(millis: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| millis.to_string())
}
