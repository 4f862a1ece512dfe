//! A schedule: "hourly at :15", "daily at 02:00", "weekly on mon at 02:00", "monthly on 1 at
//! 02:00", "monthly on last at 23:30", or a cron expression ("cron 0 3 * * 1-5", or the bare
//! five fields, or an alias such as "@daily").
//!
//! Every form is turned into a cron pattern and evaluated by `croner`, in the time zone of the
//! date-time it is given (the desktop passes local time; tests pass a fixed offset).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone};
use croner::Cron;

/// Why a schedule string was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct ScheduleError(String);

/// When a piece of work repeats.
#[derive(Clone)]
pub struct Schedule {
    spec: Spec,
    cron: Cron,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Spec {
    Hourly { minute: u32 },
    Daily { at: Clock },
    Weekly { weekday: usize, at: Clock },
    Monthly { day: MonthDay, at: Clock },
    Cron(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Clock {
    hour: u32,
    minute: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MonthDay {
    Day(u32),
    Last,
}

const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

const HELP: &str = "write one of: 'hourly at :15', 'daily at 02:00', 'weekly on mon at 02:00', \
                    'monthly on 1 at 02:00' (a day 1-28 or 'last'), or 'cron <five fields>'";

impl Schedule {
    /// The first time strictly after `after` at which the work is due, in `after`'s time zone.
    /// `None` only for a cron expression that never matches again.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>>
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        self.cron.find_next_occurrence(after, false).ok()
    }

    /// [`Schedule::next_after`] on Unix seconds, evaluated in the time zone `tz`.
    pub fn next_after_secs<Tz: TimeZone>(&self, after: i64, tz: &Tz) -> Option<i64>
    where
        DateTime<Tz>: croner::time::CronDateTime,
    {
        let start = tz.timestamp_opt(after, 0).single()?;
        self.next_after(&start).map(|t| t.timestamp())
    }

    /// The schedule in words, for people: "every day at 02:00".
    pub fn describe(&self) -> String {
        match &self.spec {
            Spec::Hourly { minute } => format!("every hour at :{minute:02}"),
            Spec::Daily { at } => format!("every day at {at}"),
            Spec::Weekly { weekday, at } => {
                const NAMES: [&str; 7] = [
                    "Sunday",
                    "Monday",
                    "Tuesday",
                    "Wednesday",
                    "Thursday",
                    "Friday",
                    "Saturday",
                ];
                format!("every {} at {at}", NAMES[*weekday])
            }
            Spec::Monthly {
                day: MonthDay::Last,
                at,
            } => format!("on the last day of every month at {at}"),
            Spec::Monthly {
                day: MonthDay::Day(d),
                at,
            } => format!("on day {d} of every month at {at}"),
            Spec::Cron(_) => format!("cron: {}", self.cron.describe()),
        }
    }

    fn from_spec(spec: Spec) -> Result<Schedule, ScheduleError> {
        let pattern = match &spec {
            Spec::Hourly { minute } => format!("{minute} * * * *"),
            Spec::Daily { at } => format!("{} {} * * *", at.minute, at.hour),
            Spec::Weekly { weekday, at } => format!("{} {} * * {weekday}", at.minute, at.hour),
            Spec::Monthly { day, at } => {
                let day = match day {
                    MonthDay::Day(d) => d.to_string(),
                    MonthDay::Last => "L".into(),
                };
                format!("{} {} {day} * *", at.minute, at.hour)
            }
            Spec::Cron(expr) => expr.clone(),
        };
        let cron = Cron::from_str(&pattern).map_err(|e| {
            ScheduleError(format!("'{pattern}' is not a valid cron expression: {e}"))
        })?;
        Ok(Schedule { spec, cron })
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.spec == other.spec
    }
}

impl Eq for Schedule {}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({self})")
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

/// The canonical text, which [`FromStr`] reads back.
impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.spec {
            Spec::Hourly { minute } => write!(f, "hourly at :{minute:02}"),
            Spec::Daily { at } => write!(f, "daily at {at}"),
            Spec::Weekly { weekday, at } => write!(f, "weekly on {} at {at}", WEEKDAYS[*weekday]),
            Spec::Monthly {
                day: MonthDay::Last,
                at,
            } => write!(f, "monthly on last at {at}"),
            Spec::Monthly {
                day: MonthDay::Day(d),
                at,
            } => write!(f, "monthly on {d} at {at}"),
            Spec::Cron(expr) => write!(f, "cron {expr}"),
        }
    }
}

impl FromStr for Schedule {
    type Err = ScheduleError;

    fn from_str(text: &str) -> Result<Schedule, ScheduleError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ScheduleError(format!("the schedule is empty; {HELP}")));
        }
        let lower = text.to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let first = words.next().unwrap_or_default();
        // Filler words make the text read like speech; they carry no meaning.
        let rest: Vec<&str> = words.filter(|w| !matches!(*w, "at" | "on")).collect();
        let spec = match first {
            "hourly" => Spec::Hourly {
                minute: parse_minute_of_hour(&rest)?,
            },
            "daily" => {
                expect_at_most(&rest, 1, text)?;
                Spec::Daily {
                    at: parse_clock(rest.first().copied())?,
                }
            }
            "weekly" => {
                expect_at_most(&rest, 2, text)?;
                let weekday = match rest.first() {
                    Some(w) => parse_weekday(w)?,
                    None => 0,
                };
                Spec::Weekly {
                    weekday,
                    at: parse_clock(rest.get(1).copied())?,
                }
            }
            "monthly" => {
                expect_at_most(&rest, 2, text)?;
                let day = match rest.first() {
                    Some(d) => parse_month_day(d)?,
                    None => MonthDay::Day(1),
                };
                Spec::Monthly {
                    day,
                    at: parse_clock(rest.get(1).copied())?,
                }
            }
            "cron" => {
                let expr = text[4..].trim();
                if expr.is_empty() {
                    return Err(ScheduleError(
                        "'cron' needs an expression, e.g. 'cron 0 3 * * *'".into(),
                    ));
                }
                Spec::Cron(expr.to_string())
            }
            _ if first.starts_with('@') || text.split_whitespace().count() == 5 => {
                Spec::Cron(text.to_string())
            }
            _ => {
                return Err(ScheduleError(format!(
                    "cannot read '{text}' as a schedule; {HELP}"
                )))
            }
        };
        Schedule::from_spec(spec)
    }
}

fn expect_at_most(words: &[&str], n: usize, text: &str) -> Result<(), ScheduleError> {
    if words.len() > n {
        Err(ScheduleError(format!(
            "'{text}' has words left over; {HELP}"
        )))
    } else {
        Ok(())
    }
}

fn parse_minute_of_hour(words: &[&str]) -> Result<u32, ScheduleError> {
    match words {
        [] => Ok(0),
        [m] => {
            let digits = m.strip_prefix(':').unwrap_or(m);
            match digits.parse::<u32>() {
                Ok(minute) if minute < 60 => Ok(minute),
                _ => Err(ScheduleError(format!(
                    "'{m}' is not a minute of the hour; write e.g. 'hourly at :15'"
                ))),
            }
        }
        _ => Err(ScheduleError(format!(
            "too many words after 'hourly'; {HELP}"
        ))),
    }
}

fn parse_clock(word: Option<&str>) -> Result<Clock, ScheduleError> {
    let Some(word) = word else {
        return Ok(Clock { hour: 0, minute: 0 });
    };
    let bad = || {
        ScheduleError(format!(
            "'{word}' is not a time of day; write it as HH:MM (24-hour), e.g. 02:00"
        ))
    };
    let (h, m) = word.split_once(':').ok_or_else(bad)?;
    let hour: u32 = h.parse().map_err(|_| bad())?;
    let minute: u32 = m.parse().map_err(|_| bad())?;
    if hour > 23 || minute > 59 || m.len() != 2 {
        return Err(bad());
    }
    Ok(Clock { hour, minute })
}

fn parse_weekday(word: &str) -> Result<usize, ScheduleError> {
    WEEKDAYS
        .iter()
        .position(|d| word.len() >= 3 && d.starts_with(&word[..3]) && is_weekday_name(word))
        .ok_or_else(|| {
            ScheduleError(format!(
                "'{word}' is not a day of the week; write mon, tue, wed, thu, fri, sat or sun"
            ))
        })
}

fn is_weekday_name(word: &str) -> bool {
    const FULL: [&str; 7] = [
        "sunday",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
    ];
    FULL.iter().any(|full| full.starts_with(word))
}

fn parse_month_day(word: &str) -> Result<MonthDay, ScheduleError> {
    if word == "last" {
        return Ok(MonthDay::Last);
    }
    match word.parse::<u32>() {
        Ok(d @ 1..=28) => Ok(MonthDay::Day(d)),
        _ => Err(ScheduleError(format!(
            "'{word}' is not a day that every month has; write a day from 1 to 28, or 'last'"
        ))),
    }
}

impl serde::Serialize for Schedule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Schedule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Schedule, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

// On the wire it is a string (see its Serialize); the OpenAPI description says so.
#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for Schedule {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <String as utoipa::PartialSchema>::schema()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for Schedule {}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, NaiveDate};

    fn at(tz: &FixedOffset, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<FixedOffset> {
        let naive = NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap();
        tz.from_local_datetime(&naive).single().unwrap()
    }

    fn next(s: &str, from: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        s.parse::<Schedule>().unwrap().next_after(&from).unwrap()
    }

    #[test]
    fn every_form_finds_its_next_time() {
        let tz = FixedOffset::east_opt(9 * 3600).unwrap();
        // Saturday 2026-11-21 10:20 in UTC+9.
        let now = at(&tz, 2026, 11, 21, 10, 20);
        assert_eq!(next("hourly", now), at(&tz, 2026, 11, 21, 11, 0));
        assert_eq!(next("hourly at :15", now), at(&tz, 2026, 11, 21, 11, 15));
        assert_eq!(next("hourly at :45", now), at(&tz, 2026, 11, 21, 10, 45));
        assert_eq!(next("daily at 02:00", now), at(&tz, 2026, 11, 22, 2, 0));
        assert_eq!(next("daily at 23:30", now), at(&tz, 2026, 11, 21, 23, 30));
        assert_eq!(
            next("weekly on mon at 02:00", now),
            at(&tz, 2026, 11, 23, 2, 0)
        );
        assert_eq!(
            next("Weekly on Saturday at 10:21", now),
            at(&tz, 2026, 11, 21, 10, 21)
        );
        assert_eq!(
            next("monthly on 1 at 03:00", now),
            at(&tz, 2026, 12, 1, 3, 0)
        );
        assert_eq!(
            next("monthly on last at 23:00", now),
            at(&tz, 2026, 11, 30, 23, 0)
        );
        assert_eq!(next("cron 0 3 * * 1-5", now), at(&tz, 2026, 11, 23, 3, 0));
        assert_eq!(next("30 4 * * *", now), at(&tz, 2026, 11, 22, 4, 30));
        assert_eq!(next("@daily", now), at(&tz, 2026, 11, 22, 0, 0));
    }

    #[test]
    fn the_next_time_is_strictly_after_the_given_one() {
        let tz = FixedOffset::east_opt(0).unwrap();
        let exactly = at(&tz, 2026, 11, 22, 2, 0);
        assert_eq!(next("daily at 02:00", exactly), at(&tz, 2026, 11, 23, 2, 0));
    }

    #[test]
    fn the_last_day_of_the_month_follows_the_calendar() {
        let tz = FixedOffset::east_opt(0).unwrap();
        let s: Schedule = "monthly on last at 12:00".parse().unwrap();
        let feb = s.next_after(&at(&tz, 2028, 2, 1, 0, 0)).unwrap();
        assert_eq!(feb, at(&tz, 2028, 2, 29, 12, 0));
    }

    #[test]
    fn text_round_trips_through_its_canonical_form() {
        for (input, canonical) in [
            ("hourly", "hourly at :00"),
            ("HOURLY :5", "hourly at :05"),
            ("daily 2:00", "daily at 02:00"),
            ("weekly fri 18:30", "weekly on fri at 18:30"),
            ("monthly last", "monthly on last at 00:00"),
            ("0 3 * * *", "cron 0 3 * * *"),
        ] {
            let s: Schedule = input.parse().unwrap();
            assert_eq!(s.to_string(), canonical, "for {input}");
            assert_eq!(canonical.parse::<Schedule>().unwrap(), s);
        }
        let s: Schedule = "weekly on mon at 02:00".parse().unwrap();
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#""weekly on mon at 02:00""#
        );
        let back: Schedule = serde_json::from_str(r#""weekly mon 02:00""#).unwrap();
        assert_eq!(back, s);
        assert!(serde_json::from_str::<Schedule>(r#""weekly on funday""#).is_err());
    }

    #[test]
    fn bad_schedules_say_what_to_write() {
        for bad in [
            "",
            "sometimes",
            "daily at 25:00",
            "daily at 2pm",
            "weekly on funday",
            "monthly on 31",
            "hourly at :75",
            "cron",
            "cron 99 * * * *",
            "daily at 02:00 and 03:00",
        ] {
            let err = bad.parse::<Schedule>().unwrap_err().to_string();
            assert!(
                err.contains("write") || err.contains("cron"),
                "{bad}: unhelpful error {err}"
            );
        }
    }

    #[test]
    fn words_describe_the_schedule() {
        let s: Schedule = "weekly on mon at 02:00".parse().unwrap();
        assert_eq!(s.describe(), "every Monday at 02:00");
        let s: Schedule = "monthly on last at 23:30".parse().unwrap();
        assert_eq!(s.describe(), "on the last day of every month at 23:30");
    }
}
