//! Dates and times: `dt` reads RFC 3339, RFC 2822, common variants, epoch seconds or
//! milliseconds and `"now"` into a [`DateTime`] value; `strftime` formats it; `dt_add` and
//! `.add()` shift it. Datetimes compare with each other and render as RFC 3339 in UTC.

use std::cmp::Ordering;
use std::fmt::{self, Write};
use std::sync::Arc;

use chrono::format::{Item, StrftimeItems};
use chrono::{NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Utc};
use minijinja::value::{DynObject, Kwargs, Object, ObjectRepr, ValueKind};
use minijinja::{Environment, Error, ErrorKind, State, Value};

use super::fail;

/// Epoch numbers at or above this are milliseconds (as seconds it would be year 5138).
const MILLIS_THRESHOLD: f64 = 100_000_000_000.0;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("dt", dt);
    env.add_function("dt", dt);
    env.add_function("now", || Value::from_object(DateTime(Utc::now())));
    env.add_filter("strftime", strftime);
    env.add_filter("dt_add", dt_add);
    env.add_test("datetime", |value: &Value| {
        value.downcast_object_ref::<DateTime>().is_some()
    });
}

/// A point in time (UTC) as seen by expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub chrono::DateTime<Utc>);

impl DateTime {
    /// RFC 3339 in UTC, with fractional seconds only when present.
    pub fn to_rfc3339(&self) -> String {
        self.0.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }

    /// `fmt` with chrono's strftime syntax, in UTC or the named IANA time zone.
    fn format(&self, fmt: &str, tz: Option<&str>) -> Result<String, Error> {
        let items: Vec<Item<'_>> = StrftimeItems::new(fmt).collect();
        if items.iter().any(|item| matches!(item, Item::Error)) {
            return Err(fail("strftime", format!("invalid format `{fmt}`")));
        }
        let mut out = String::new();
        let written = match tz {
            None => write!(out, "{}", self.0.format_with_items(items.iter())),
            Some(name) => {
                let zone: chrono_tz::Tz = name
                    .parse()
                    .map_err(|_| fail("strftime", format!("unknown time zone `{name}`")))?;
                write!(
                    out,
                    "{}",
                    self.0.with_timezone(&zone).format_with_items(items.iter())
                )
            }
        };
        written.map_err(|_| fail("strftime", format!("cannot format with `{fmt}`")))?;
        Ok(out)
    }

    fn shifted(&self, kwargs: &Kwargs, seconds: Option<f64>) -> Result<DateTime, Error> {
        let mut total = seconds.unwrap_or(0.0);
        for (unit, factor) in [
            ("seconds", 1.0),
            ("minutes", 60.0),
            ("hours", 3600.0),
            ("days", 86400.0),
            ("weeks", 604800.0),
        ] {
            if let Some(amount) = kwargs.get::<Option<f64>>(unit)? {
                total += amount * factor;
            }
        }
        kwargs.assert_all_used()?;
        let delta = (total.is_finite() && total.abs() < 1e15)
            .then(|| TimeDelta::try_milliseconds((total * 1000.0).round() as i64))
            .flatten()
            .ok_or_else(|| fail("dt_add", format!("cannot shift by {total} seconds")))?;
        self.0
            .checked_add_signed(delta)
            .map(DateTime)
            .ok_or_else(|| fail("dt_add", "the result is out of range"))
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Object for DateTime {
    fn repr(self: &Arc<Self>) -> ObjectRepr {
        ObjectRepr::Plain
    }

    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        use chrono::{Datelike, Timelike};
        let t = &self.0;
        Some(match key.as_str()? {
            "year" => Value::from(t.year()),
            "month" => Value::from(t.month()),
            "day" => Value::from(t.day()),
            "hour" => Value::from(t.hour()),
            "minute" => Value::from(t.minute()),
            "second" => Value::from(t.second()),
            "microsecond" => Value::from(t.timestamp_subsec_micros()),
            "weekday" => Value::from(t.weekday().num_days_from_monday()),
            "epoch" => Value::from(t.timestamp()),
            "epoch_ms" => Value::from(t.timestamp_millis()),
            "iso" => Value::from(self.to_rfc3339()),
            _ => return None,
        })
    }

    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[Value],
    ) -> Result<Value, Error> {
        match method {
            "strftime" => {
                let (fmt, kwargs): (&str, Kwargs) = minijinja::value::from_args(args)?;
                let tz: Option<&str> = kwargs.get("tz")?;
                kwargs.assert_all_used()?;
                self.format(fmt, tz).map(Value::from)
            }
            "add" => {
                let (seconds, kwargs): (Option<f64>, Kwargs) = minijinja::value::from_args(args)?;
                self.shifted(&kwargs, seconds).map(Value::from_object)
            }
            "isoformat" => {
                let () = minijinja::value::from_args(args)?;
                Ok(Value::from(self.to_rfc3339()))
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!("datetimes have no method `{method}` (try strftime, add or isoformat)"),
            )),
        }
    }

    fn custom_cmp(self: &Arc<Self>, other: &DynObject) -> Option<Ordering> {
        Some(self.0.cmp(&other.downcast_ref::<Self>()?.0))
    }

    fn render(self: &Arc<Self>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Reads a value as a datetime; `format` is a strftime pattern for unusual text.
fn dt(state: &State, value: &Value, format: Option<&str>) -> Result<Value, Error> {
    parse(state, value, format).map(Value::from_object)
}

pub(crate) fn parse(state: &State, value: &Value, format: Option<&str>) -> Result<DateTime, Error> {
    if let Some(datetime) = value.downcast_object_ref::<DateTime>() {
        return Ok(*datetime);
    }
    match value.kind() {
        ValueKind::Number => {
            let number = f64::try_from(value.clone())
                .map_err(|_| fail("dt", format!("`{value}` is not a usable number")))?;
            from_epoch(number)
        }
        ValueKind::String => {
            let text = value.as_str().unwrap_or_default().trim();
            match format {
                Some(format) => with_format(text, format),
                None => from_text(text),
            }
        }
        _ => {
            // Missing values get the engine's "`x` is undefined" message.
            minijinja::value::StringInput::new(state, value)?;
            Err(fail(
                "dt",
                format!("a {} cannot be read as a date and time", value.kind()),
            ))
        }
    }
}

fn from_epoch(number: f64) -> Result<DateTime, Error> {
    let millis = if number.abs() >= MILLIS_THRESHOLD {
        number
    } else {
        number * 1000.0
    };
    if !millis.is_finite() || millis.abs() > 8.0e15 {
        return Err(fail(
            "dt",
            format!("{number} is out of range for a timestamp"),
        ));
    }
    Utc.timestamp_millis_opt(millis.round() as i64)
        .single()
        .map(DateTime)
        .ok_or_else(|| fail("dt", format!("{number} is out of range for a timestamp")))
}

fn from_text(text: &str) -> Result<DateTime, Error> {
    if text.eq_ignore_ascii_case("now") {
        return Ok(DateTime(Utc::now()));
    }
    if let Ok(number) = text.parse::<f64>() {
        return from_epoch(number);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(DateTime(t.with_timezone(&Utc)));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc2822(text) {
        return Ok(DateTime(t.with_timezone(&Utc)));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(text, format) {
            return Ok(DateTime(t.with_timezone(&Utc)));
        }
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(DateTime(t.and_utc()));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        && let Some(t) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(DateTime(t.and_utc()));
    }
    Err(fail(
        "dt",
        format!(
            "cannot read `{text}` as a date and time (expected RFC 3339 such as \
             2024-05-01T12:00:00Z, RFC 2822, epoch seconds or milliseconds, or \"now\"; pass a \
             format for other layouts)"
        ),
    ))
}

fn with_format(text: &str, format: &str) -> Result<DateTime, Error> {
    if StrftimeItems::new(format).any(|item| matches!(item, Item::Error)) {
        return Err(fail("dt", format!("invalid format `{format}`")));
    }
    if let Ok(t) = chrono::DateTime::parse_from_str(text, format) {
        return Ok(DateTime(t.with_timezone(&Utc)));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
        return Ok(DateTime(t.and_utc()));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, format)
        && let Some(t) = date.and_hms_opt(0, 0, 0)
    {
        return Ok(DateTime(t.and_utc()));
    }
    Err(fail(
        "dt",
        format!("`{text}` does not match the format `{format}`"),
    ))
}

/// `value | strftime("%Y-%m-%d %H:%M", tz="Europe/Paris")`.
fn strftime(state: &State, value: &Value, format: &str, kwargs: Kwargs) -> Result<String, Error> {
    let tz: Option<&str> = kwargs.get("tz")?;
    kwargs.assert_all_used()?;
    parse(state, value, None)?.format(format, tz)
}

/// `value | dt_add(hours=1)`, or `dt_add(3600)` in seconds.
fn dt_add(
    state: &State,
    value: &Value,
    seconds: Option<f64>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    parse(state, value, None)?
        .shifted(&kwargs, seconds)
        .map(Value::from_object)
}
