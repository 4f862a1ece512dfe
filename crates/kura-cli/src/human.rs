//! Numbers and times formatted for people.

/// "1.2 GiB", "340 KiB", "12 B": the engine's one rule, the one the UI follows too.
pub use kura_core::human::{bytes, count, duration};

/// "3 minutes ago", "yesterday", "5 months ago", "in 2 days": the engine's one rule, as the UI
/// says it.
pub fn ago(ts: i64, now: i64) -> String {
    kura_core::human::relative(ts, now)
}

/// "today at 14:05", "tomorrow at 02:00", "Mon at 02:00", "Nov 30 at 02:00" in the machine's
/// local time zone: the engine's rule for moments near now, as the app says them.
pub fn when(ts: i64, now: i64) -> String {
    kura_core::human::when(ts, now, &chrono::Local)
}

/// "2026-11-21 14:03" (UTC).
pub fn date(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .map(|t| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                t.year(),
                t.month() as u8,
                t.day(),
                t.hour(),
                t.minute()
            )
        })
        .unwrap_or_else(|_| ts.to_string())
}

/// "2026-11-22 00:00" in the machine's local time zone (the one schedules and pauses use).
pub fn local_time(ts: i64) -> String {
    use chrono::TimeZone;
    chrono::Local
        .timestamp_opt(ts, 0)
        .single()
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// Parses "2026-11-01", "2026-11-01T10:00:00Z", or a relative "7d", "12h", "30m" (ago) into
/// seconds since the epoch.
pub fn parse_time(s: &str, now: i64) -> Result<i64, String> {
    let t = s.trim();
    if let Some(num) = t.strip_suffix('d').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(now - num * 86_400);
    }
    if let Some(num) = t.strip_suffix('h').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(now - num * 3600);
    }
    if let Some(num) = t.strip_suffix('m').and_then(|n| n.parse::<i64>().ok()) {
        return Ok(now - num * 60);
    }
    if let Ok(dt) = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339) {
        return Ok(dt.unix_timestamp());
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = time::Date::parse(t, &fmt) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    Err(format!(
        "'{s}' is not a time; write 2026-11-01, 2026-11-01T10:00:00Z, or 7d / 12h / 30m for 'that long ago'"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(250 << 20), "250 MiB");
        assert_eq!(bytes(3 << 30), "3 GiB");
        assert_eq!(bytes(49_562), "48.4 KiB");
    }

    #[test]
    fn times_are_relative_when_recent() {
        let now = 1_800_000_000;
        assert_eq!(ago(now - 10, now), "just now");
        assert_eq!(ago(now - 180, now), "3 minutes ago");
        assert_eq!(ago(now - 7200, now), "2 hours ago");
        assert_eq!(ago(now - 90_000, now), "yesterday");
        assert_eq!(parse_time("2d", now).unwrap(), now - 172_800);
        assert_eq!(parse_time("1970-01-02", now).unwrap(), 86_400);
        assert!(parse_time("soon", now).is_err());
    }
}
