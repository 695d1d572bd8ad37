//! `schedule`: starts a run on a cron schedule, in a time zone.

use std::borrow::Cow;
use std::str::FromStr;
use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use croner::Cron;
use muster_engine::{Action, ActionContext, ActionError, ActionSpec, Outcome};
use muster_model::{ActionDef, OptionProblem};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Options of `schedule`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct ScheduleOptions {
    /// A cron pattern: 5 fields (minute hour day month weekday) or 6 with seconds first.
    cron: String,
    /// IANA time zone the pattern is read in (default: UTC).
    #[serde(default)]
    timezone: Option<String>,
}

static SPEC: LazyLock<ActionSpec> = LazyLock::new(|| ActionSpec {
    kind: Cow::Borrowed("schedule"),
    summary: Cow::Borrowed("Start a run on a cron schedule."),
    description: Cow::Borrowed(
        "Emits `{scheduled_at, fired_at}` (RFC 3339, UTC). Each tick fires once, even \
         with several processes; a tick missed while Muster was down fires once at the \
         next start. Weekdays are 0-6 or SUN-SAT; `L`, `W` and `#` are supported.",
    ),
    trigger: true,
    ports: &[],
    options: crate::options::schema::<ScheduleOptions>(),
    example: Cow::Borrowed(
        "- id: every_morning\n  type: schedule\n  options:\n    cron: \"0 7 * * MON-FRI\"\n    timezone: Europe/Paris\n",
    ),
    side_effects: false,
    inline: false,
});

pub struct Schedule;

fn parse(def: &ActionDef) -> Result<(Cron, chrono_tz::Tz), String> {
    let options: ScheduleOptions =
        serde_json::from_value(Value::Object(def.options.clone())).map_err(|e| e.to_string())?;
    let cron = Cron::from_str(&options.cron)
        .map_err(|e| format!("invalid cron pattern `{}`: {e}", options.cron))?;
    let tz = match &options.timezone {
        Some(name) => name.parse::<chrono_tz::Tz>().map_err(|_| {
            format!("unknown time zone `{name}` (use an IANA name like Europe/Paris)")
        })?,
        None => chrono_tz::UTC,
    };
    Ok((cron, tz))
}

#[async_trait]
impl Action for Schedule {
    fn spec(&self) -> &ActionSpec {
        &SPEC
    }

    fn check(&self, def: &ActionDef) -> Vec<OptionProblem> {
        match parse(def) {
            Ok(_) => Vec::new(),
            Err(message) => vec![OptionProblem {
                path: if message.contains("time zone") {
                    "timezone"
                } else {
                    "cron"
                }
                .into(),
                message,
                hint: Some("for example `0 7 * * MON-FRI` (07:00 on weekdays)".into()),
            }],
        }
    }

    async fn execute(&self, ctx: &ActionContext<'_>) -> Result<Outcome, ActionError> {
        Ok(Outcome::emit(ctx.input_output().clone()))
    }

    fn next_fire(&self, def: &ActionDef, after: i64) -> Result<Option<i64>, String> {
        let (cron, tz) = parse(def)?;
        let after = Utc
            .timestamp_millis_opt(after)
            .single()
            .ok_or("time out of range")?
            .with_timezone(&tz);
        let next = cron
            .find_next_occurrence(&after, false)
            .map_err(|e| format!("no next occurrence: {e}"))?;
        Ok(Some(next.with_timezone(&Utc).timestamp_millis()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(cron: &str, tz: Option<&str>) -> ActionDef {
        let mut options = serde_json::Map::new();
        options.insert("cron".into(), cron.into());
        if let Some(tz) = tz {
            options.insert("timezone".into(), tz.into());
        }
        ActionDef {
            id: "tick".into(),
            kind: "schedule".into(),
            description: None,
            options,
            retry: None,
            timeout: None,
            concurrency: None,
        }
    }

    #[test]
    fn next_fire_honours_the_time_zone() {
        // 2026-01-05 is a Monday; 07:00 in Paris (UTC+1 in winter) is 06:00 UTC.
        let after = Utc
            .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
            .unwrap()
            .timestamp_millis();
        let next = Schedule
            .next_fire(&def("0 7 * * MON-FRI", Some("Europe/Paris")), after)
            .unwrap()
            .unwrap();
        assert_eq!(
            next,
            Utc.with_ymd_and_hms(2026, 1, 5, 6, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
    }

    #[test]
    fn bad_patterns_and_zones_are_reported() {
        assert_eq!(Schedule.check(&def("61 * * * *", None))[0].path, "cron");
        assert_eq!(
            Schedule.check(&def("* * * * *", Some("Mars/Olympus")))[0].path,
            "timezone"
        );
    }
}
