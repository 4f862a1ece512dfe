//! Sizes and times written for people: the one rule every door uses (the CLI, the API's
//! messages, and the UI, whose TypeScript copy in `ui/src/lib/format.ts` is checked against
//! the table this module writes to `ui/src/lib/format-cases.json`).

use chrono::Datelike;

const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// "0 B", "512 B", "1.2 KiB", "2 MiB", "48.4 KiB", "125 GiB": IEC units, one decimal below 100
/// (a trailing ".0" dropped), none from 100 up; rounding that reaches 1024 moves to the next unit.
pub fn bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let mut text = if value < 100.0 {
        format!("{:.1}", (value * 10.0).round() / 10.0)
    } else {
        format!("{}", value.round())
    };
    if (text == "1024.0" || text == "1024") && unit + 1 < UNITS.len() {
        return format!("1 {}", UNITS[unit + 1]);
    }
    if let Some(whole) = text.strip_suffix(".0") {
        text = whole.to_string();
    }
    format!("{text} {}", UNITS[unit])
}

/// "1 file", "3 files": a count with its noun, in the plural unless it is one.
pub fn count(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// "under 1 s", "45 s", "10 min 5 s", "2 h 5 min": how long something took, in whole seconds.
pub fn duration(seconds: u64) -> String {
    match seconds {
        0 => "under 1 s".into(),
        1..=59 => format!("{seconds} s"),
        60..=3599 => match (seconds / 60, seconds % 60) {
            (m, 0) => format!("{m} min"),
            (m, s) => format!("{m} min {s} s"),
        },
        _ => {
            // Minutes rounded, halves up; 59.5 and more make the next hour.
            let minutes = (seconds + 30) / 60;
            match (minutes / 60, minutes % 60) {
                (h, 0) => format!("{h} h"),
                (h, m) => format!("{h} h {m} min"),
            }
        }
    }
}

/// How `at` relates to `now` (seconds since the epoch): "just now", "3 hours ago", "yesterday",
/// "in 2 days", "5 months ago".
pub fn relative(at: i64, now: i64) -> String {
    let diff = now - at;
    // Clocks tick coarsely; a moment "ahead" is something made just now.
    let ahead = diff < -60;
    let s = diff.unsigned_abs() as f64;
    let say = |n: f64, unit: &str| {
        let n = n as u64;
        let text = format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        if ahead {
            format!("in {text}")
        } else {
            format!("{text} ago")
        }
    };
    // JavaScript's Math.round: halves go up.
    let round = |x: f64| (x + 0.5).floor();
    const HOUR: f64 = 3600.0;
    const DAY: f64 = 86_400.0;
    if s < 45.0 || (diff < 0 && !ahead) {
        "just now".into()
    } else if s < 90.0 {
        say(1.0, "minute")
    } else if s < 45.0 * 60.0 {
        say(round(s / 60.0), "minute")
    } else if s < 90.0 * 60.0 {
        say(1.0, "hour")
    } else if s < 22.0 * HOUR {
        say(round(s / HOUR), "hour")
    } else if s < 36.0 * HOUR {
        if ahead { "tomorrow" } else { "yesterday" }.into()
    } else if s < 26.0 * DAY {
        say(round(s / DAY), "day")
    } else if s < 45.0 * DAY {
        say(1.0, "month")
    } else if s < 320.0 * DAY {
        say(round(s / (30.0 * DAY)), "month")
    } else if s < 548.0 * DAY {
        say(1.0, "year")
    } else {
        say(round(s / (365.0 * DAY)), "year")
    }
}

/// A moment near now, in the time zone `tz`: "today at 14:05", "tomorrow at 02:00", "yesterday
/// at 02:00", "Mon at 02:00" within the week, else "Nov 30 at 02:00" ("Jan 2, 2027 at 02:00" in
/// another year). For next runs, pauses and expiries, which people read as times of day.
pub fn when<Tz: chrono::TimeZone>(at: i64, now: i64, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let (Some(moment), Some(today)) = (
        tz.timestamp_opt(at, 0).single(),
        tz.timestamp_opt(now, 0).single(),
    ) else {
        return at.to_string();
    };
    let clock = moment.format("%H:%M");
    match (moment.date_naive() - today.date_naive()).num_days() {
        0 => format!("today at {clock}"),
        1 => format!("tomorrow at {clock}"),
        -1 => format!("yesterday at {clock}"),
        days if days.abs() < 6 => format!("{} at {clock}", moment.format("%a")),
        _ if moment.year() == today.year() => format!("{} at {clock}", moment.format("%b %-d")),
        _ => format!("{} at {clock}", moment.format("%b %-d, %Y")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes at and around each edge of the rule.
    const SIZE_CASES: &[u64] = &[
        0,
        1,
        512,
        1023,
        1024,
        1025,
        1075,
        1076,
        1535,
        1536,
        10_240,
        49_562,
        102_399,
        102_400,
        102_401,
        1_048_063,
        1_048_534,
        1_048_575,
        1_048_576,
        2_097_152,
        5_976_883,
        16_201_046,
        104_857_600,
        314_572_800,
        1_073_741_823,
        1_073_741_824,
        11_166_914_969,
        134_217_728_000,
        1 << 40,
        (1 << 40) + (1 << 39),
        1 << 50,
        (1 << 53) - 1,
        1 << 60,
    ];

    /// Seconds before `now` (negative: after) at and around each edge of the rule.
    const RELATIVE_CASES: &[i64] = &[
        0, 5, 44, 45, 60, 89, 90, 149, 150, 600, 2_699, 2_700, 5_399, 5_400, 10_800, 79_199,
        79_200, 93_600, 129_599, 129_600, 432_000, 2_246_399, 2_246_400, 3_455_999, 3_888_000,
        12_960_000, 27_647_999, 27_648_000, 34_560_000, 47_347_199, 47_347_200, 94_608_000, -30,
        -60, -61, -600, -10_800, -93_600, -172_800, -5_184_000,
    ];

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1 KiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(49_562), "48.4 KiB");
        assert_eq!(bytes(2 << 20), "2 MiB");
        assert_eq!(bytes(250 << 20), "250 MiB");
        assert_eq!(bytes(125 << 30), "125 GiB");
        // Rounding that reaches 1024 says the next unit.
        assert_eq!(bytes(1_048_534), "1 MiB");
        assert_eq!(bytes(1_048_575), "1 MiB");
        assert_eq!(bytes(1 << 60), "1024 PiB");
    }

    #[test]
    fn counts_say_one_or_many() {
        assert_eq!(count(0, "file"), "0 files");
        assert_eq!(count(1, "file"), "1 file");
        assert_eq!(count(132, "file"), "132 files");
    }

    #[test]
    fn times_are_relative() {
        let now = 1_800_000_000;
        assert_eq!(relative(now - 10, now), "just now");
        assert_eq!(relative(now - 180, now), "3 minutes ago");
        assert_eq!(relative(now - 7200, now), "2 hours ago");
        assert_eq!(relative(now - 90_000, now), "yesterday");
        assert_eq!(relative(now - 5 * 86_400, now), "5 days ago");
        assert_eq!(relative(now - 150 * 86_400, now), "5 months ago");
        assert_eq!(relative(now + 2 * 86_400, now), "in 2 days");
        assert_eq!(relative(now + 30, now), "just now");
    }

    /// The UI formats with its own copy of these rules (`ui/src/lib/format.ts`, for speed);
    /// its unit tests check it against this table. The table must be what Rust says today:
    /// `KURA_UPDATE_BINDINGS=1 cargo test -p kura-core human` rewrites it.
    /// Seconds after `now` (negative: before), in UTC, at and around each edge of the rule.
    const WHEN_CASES: &[i64] = &[
        0,
        3_600,
        -3_600,
        36_000,
        50_400,
        86_399,
        86_400,
        129_600,
        -50_400,
        -86_400,
        -172_800,
        172_800,
        345_600,
        432_000,
        518_400,
        3_456_000,
        -3_456_000,
        5_184_000,
        -31_536_000,
    ];

    /// Durations in seconds at and around each edge of the rule.
    const DURATION_CASES: &[u64] = &[
        0, 1, 45, 59, 60, 61, 600, 605, 3_599, 3_600, 3_629, 3_630, 7_199, 7_200, 7_500, 86_400,
        90_061,
    ];

    #[test]
    fn durations_read_in_units_people_use() {
        assert_eq!(duration(0), "under 1 s");
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(605), "10 min 5 s");
        assert_eq!(duration(7_500), "2 h 5 min");
        assert_eq!(duration(7_199), "2 h");
    }

    #[test]
    fn moments_read_as_times_of_day() {
        let tz = chrono::Utc;
        // Tue 2026-11-24 10:00 UTC.
        let now = 1_795_514_400;
        assert_eq!(when(now + 4 * 3600, now, &tz), "today at 14:00");
        assert_eq!(when(now + 16 * 3600, now, &tz), "tomorrow at 02:00");
        assert_eq!(when(now - 8 * 3600, now, &tz), "today at 02:00");
        assert_eq!(when(now - 32 * 3600, now, &tz), "yesterday at 02:00");
        assert_eq!(when(now + 5 * 86_400 - 8 * 3600, now, &tz), "Sun at 02:00");
        assert_eq!(when(now + 7 * 86_400, now, &tz), "Dec 1 at 10:00");
        assert_eq!(when(now + 40 * 86_400, now, &tz), "Jan 3, 2027 at 10:00");
    }

    #[test]
    fn ui_format_cases_match_rust() {
        let now = 1_700_000_000i64;
        // One case a line, so a change reads as a diff of the cases it changed.
        let rows = |cases: Vec<(i64, String)>| {
            cases
                .iter()
                .map(|(n, text)| format!("    [{n}, {}]", serde_json::Value::from(text.as_str())))
                .collect::<Vec<_>>()
                .join(",\n")
        };
        let sizes = rows(SIZE_CASES.iter().map(|&n| (n as i64, bytes(n))).collect());
        let relative = rows(
            RELATIVE_CASES
                .iter()
                .map(|&ago| (now - ago, super::relative(now - ago, now)))
                .collect(),
        );
        let when = rows(
            WHEN_CASES
                .iter()
                .map(|&after| (now + after, super::when(now + after, now, &chrono::Utc)))
                .collect(),
        );
        // How config.toml and the app's fields write a size exactly (ByteSize's Display).
        let exact = rows(
            SIZE_CASES
                .iter()
                .chain(&[1000, 1_500_000, 5_000_000, 2_000_000_000, 1_000_000_000_000])
                .map(|&n| (n as i64, crate::ByteSize(n).to_string()))
                .collect(),
        );
        let durations = rows(
            DURATION_CASES
                .iter()
                .map(|&s| (s as i64, duration(s)))
                .collect(),
        );
        let text = format!(
            "{{\n  \"_\": \"Written by kura-core's human.rs test (KURA_UPDATE_BINDINGS=1 cargo test -p kura-core human); ui/tests/unit/format.test.ts checks format.ts against it.\",\n  \"now\": {now},\n  \"bytes\": [\n{sizes}\n  ],\n  \"relative\": [\n{relative}\n  ],\n  \"when_utc\": [\n{when}\n  ],\n  \"duration\": [\n{durations}\n  ],\n  \"exact\": [\n{exact}\n  ]\n}}\n"
        );
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../ui/src/lib/format-cases.json");
        if std::env::var_os("KURA_UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "{} is stale; run KURA_UPDATE_BINDINGS=1 cargo test -p kura-core human and commit it",
            path.display()
        );
    }
}
