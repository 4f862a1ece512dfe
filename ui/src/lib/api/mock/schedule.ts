// The fake of `kura-schedule`'s schedules, for the mock backend: the same forms ("hourly at :15",
// "daily at 02:00", "weekly on mon at 02:00", "monthly on 1 at 02:00", "monthly on last at
// 23:30", "cron <five fields>", the bare five fields, "@daily"), the same refusals with the same
// messages, the same words ("every day at 02:00"), and the next time in local time.

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const HELP =
  "write one of: 'hourly at :15', 'daily at 02:00', 'weekly on mon at 02:00', 'monthly on 1 at 02:00' (a day 1-28 or 'last'), or 'cron <five fields>'";

/** Why a schedule string was refused (the engine's `ScheduleError`). */
export class ScheduleError extends Error {}

type Clock = { hour: number; minute: number };
type Spec =
  | { kind: "hourly"; minute: number }
  | { kind: "daily"; at: Clock }
  | { kind: "weekly"; weekday: number; at: Clock }
  | { kind: "monthly"; day: number | "last"; at: Clock }
  | { kind: "cron"; expr: string };

/** A parsed cron pattern: the allowed values of each field. */
type Cron = {
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  lastDay: boolean;
  months: Set<number>;
  weekdays: Set<number>;
  starDays: boolean;
  starWeekdays: boolean;
  steps: { minutes: number; hours: number };
};

const pad = (n: number) => String(n).padStart(2, "0");
const clockText = (c: Clock) => `${pad(c.hour)}:${pad(c.minute)}`;

export class Schedule {
  private constructor(
    private readonly spec: Spec,
    private readonly cron: Cron,
  ) {}

  /** Reads a schedule the way the engine does; throws `ScheduleError` saying what to write. */
  static parse(raw: string): Schedule {
    const text = raw.trim();
    if (!text) throw new ScheduleError(`the schedule is empty; ${HELP}`);
    const words = text.toLowerCase().split(/\s+/);
    const first = words[0];
    // Filler words make the text read like speech; they carry no meaning.
    const rest = words.slice(1).filter((w) => w !== "at" && w !== "on");
    let spec: Spec;
    if (first === "hourly") spec = { kind: "hourly", minute: minuteOfHour(rest) };
    else if (first === "daily") {
      atMost(rest, 1, text);
      spec = { kind: "daily", at: parseClock(rest[0]) };
    } else if (first === "weekly") {
      atMost(rest, 2, text);
      spec = { kind: "weekly", weekday: rest[0] === undefined ? 0 : parseWeekday(rest[0]), at: parseClock(rest[1]) };
    } else if (first === "monthly") {
      atMost(rest, 2, text);
      spec = { kind: "monthly", day: rest[0] === undefined ? 1 : parseMonthDay(rest[0]), at: parseClock(rest[1]) };
    } else if (first === "cron") {
      const expr = text.slice(4).trim();
      if (!expr) throw new ScheduleError("'cron' needs an expression, e.g. 'cron 0 3 * * *'");
      spec = { kind: "cron", expr };
    } else if (first.startsWith("@") || text.split(/\s+/).length === 5) {
      spec = { kind: "cron", expr: text };
    } else {
      throw new ScheduleError(`cannot read '${text}' as a schedule; ${HELP}`);
    }
    return new Schedule(spec, parseCron(pattern(spec)));
  }

  /** The schedule in words, for people: "every day at 02:00". */
  describe(): string {
    const s = this.spec;
    switch (s.kind) {
      case "hourly":
        return `every hour at :${pad(s.minute)}`;
      case "daily":
        return `every day at ${clockText(s.at)}`;
      case "weekly":
        return `every ${WEEKDAY_NAMES[s.weekday]} at ${clockText(s.at)}`;
      case "monthly":
        return s.day === "last" ? `on the last day of every month at ${clockText(s.at)}` : `on day ${s.day} of every month at ${clockText(s.at)}`;
      case "cron":
        return `cron: ${describeCron(this.cron)}`;
    }
  }

  /** The canonical text, which `parse` reads back. */
  toString(): string {
    const s = this.spec;
    switch (s.kind) {
      case "hourly":
        return `hourly at :${pad(s.minute)}`;
      case "daily":
        return `daily at ${clockText(s.at)}`;
      case "weekly":
        return `weekly on ${WEEKDAYS[s.weekday]} at ${clockText(s.at)}`;
      case "monthly":
        return `monthly on ${s.day} at ${clockText(s.at)}`;
      case "cron":
        return `cron ${s.expr}`;
    }
  }

  /** The first time strictly after `after` (Unix seconds) at which the work is due, in local time. */
  nextAfter(after: number): number | null {
    const start = new Date((Math.floor(after / 60) + 1) * 60 * 1000);
    const c = this.cron;
    for (let day = 0; day < 366 * 8; day++) {
      const d = new Date(start.getFullYear(), start.getMonth(), start.getDate() + day);
      if (!dayMatches(c, d)) continue;
      const fromHour = day === 0 ? start.getHours() : 0;
      for (let hour = fromHour; hour < 24; hour++) {
        if (!c.hours.has(hour)) continue;
        const fromMinute = day === 0 && hour === start.getHours() ? start.getMinutes() : 0;
        for (let minute = fromMinute; minute < 60; minute++) {
          if (!c.minutes.has(minute)) continue;
          const at = new Date(d.getFullYear(), d.getMonth(), d.getDate(), hour, minute);
          // Hours skipped by a daylight-saving change do not exist that day.
          if (at.getHours() !== hour) continue;
          return Math.floor(at.getTime() / 1000);
        }
      }
    }
    return null;
  }
}

function pattern(spec: Spec): string {
  switch (spec.kind) {
    case "hourly":
      return `${spec.minute} * * * *`;
    case "daily":
      return `${spec.at.minute} ${spec.at.hour} * * *`;
    case "weekly":
      return `${spec.at.minute} ${spec.at.hour} * * ${spec.weekday}`;
    case "monthly":
      return `${spec.at.minute} ${spec.at.hour} ${spec.day === "last" ? "L" : spec.day} * *`;
    case "cron":
      return spec.expr;
  }
}

function atMost(words: string[], n: number, text: string) {
  if (words.length > n) throw new ScheduleError(`'${text}' has words left over; ${HELP}`);
}

function minuteOfHour(words: string[]): number {
  if (words.length === 0) return 0;
  if (words.length > 1) throw new ScheduleError(`too many words after 'hourly'; ${HELP}`);
  const m = words[0];
  const digits = m.startsWith(":") ? m.slice(1) : m;
  const minute = /^\d+$/.test(digits) ? Number(digits) : NaN;
  if (!(minute < 60)) throw new ScheduleError(`'${m}' is not a minute of the hour; write e.g. 'hourly at :15'`);
  return minute;
}

function parseClock(word: string | undefined): Clock {
  if (word === undefined) return { hour: 0, minute: 0 };
  const bad = () => new ScheduleError(`'${word}' is not a time of day; write it as HH:MM (24-hour), e.g. 02:00`);
  const parts = word.split(":");
  if (parts.length !== 2 || !/^\d+$/.test(parts[0]) || !/^\d+$/.test(parts[1])) throw bad();
  const hour = Number(parts[0]);
  const minute = Number(parts[1]);
  if (hour > 23 || minute > 59 || parts[1].length !== 2) throw bad();
  return { hour, minute };
}

function parseWeekday(word: string): number {
  const full = WEEKDAY_NAMES.map((n) => n.toLowerCase());
  const i = WEEKDAYS.findIndex((d) => word.length >= 3 && d.startsWith(word.slice(0, 3)) && full.some((f) => f.startsWith(word)));
  if (i < 0) throw new ScheduleError(`'${word}' is not a day of the week; write mon, tue, wed, thu, fri, sat or sun`);
  return i;
}

function parseMonthDay(word: string): number | "last" {
  if (word === "last") return "last";
  const d = /^\d+$/.test(word) ? Number(word) : NaN;
  if (d >= 1 && d <= 28) return d;
  throw new ScheduleError(`'${word}' is not a day that every month has; write a day from 1 to 28, or 'last'`);
}

// ----- cron

const ALIASES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

function parseCron(expr: string): Cron {
  const text = ALIASES[expr.trim().toLowerCase()] ?? expr.trim();
  const invalid = (why: string) => new ScheduleError(`'${expr}' is not a valid cron expression: ${why}`);
  const fields = text.split(/\s+/);
  if (fields.length !== 5) throw invalid(`it has ${fields.length} fields; a cron expression has five (minute hour day month weekday)`);
  const steps = { minutes: 1, hours: 1 };
  const field = (raw: string, what: string, min: number, max: number, names: string[] = [], namesFrom = 0) => {
    const out = new Set<number>();
    let step = 1;
    for (const part of raw.toLowerCase().split(",")) {
      const [range, stepText] = part.split("/");
      if (stepText !== undefined) {
        step = /^\d+$/.test(stepText) ? Number(stepText) : NaN;
        if (!(step >= 1)) throw invalid(`the step '${stepText}' of the ${what} field is not a positive number`);
      }
      const value = (v: string) => {
        const named = names.indexOf(v);
        if (named >= 0) return named + namesFrom;
        const n = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(n >= min && n <= max)) throw invalid(`'${v}' is not a valid ${what} (${min}-${max})`);
        return n;
      };
      let from = min;
      let to = max;
      if (range !== "*") {
        const [a, b] = range.split("-");
        from = value(a);
        to = b === undefined ? (stepText === undefined ? from : max) : value(b);
        if (to < from) throw invalid(`the ${what} range '${range}' runs backwards`);
      }
      for (let v = from; v <= to; v += step) out.add(v);
    }
    return { values: out, step };
  };
  const minutes = field(fields[0], "minute", 0, 59);
  const hours = field(fields[1], "hour", 0, 23);
  const lastDay = fields[2].toUpperCase() === "L";
  const days = lastDay ? { values: new Set<number>(), step: 1 } : field(fields[2], "day of the month", 1, 31);
  const months = field(fields[3], "month", 1, 12, MONTHS, 1);
  const weekdays = field(fields[4], "day of the week", 0, 7, WEEKDAYS, 0);
  if (weekdays.values.has(7)) {
    weekdays.values.delete(7);
    weekdays.values.add(0);
  }
  steps.minutes = fields[0].startsWith("*/") ? minutes.step : 1;
  steps.hours = fields[1].startsWith("*/") ? hours.step : 1;
  return {
    minutes: minutes.values,
    hours: hours.values,
    days: days.values,
    lastDay,
    months: months.values,
    weekdays: weekdays.values,
    starDays: fields[2] === "*",
    starWeekdays: fields[4] === "*",
    steps,
  };
}

function dayMatches(c: Cron, d: Date): boolean {
  if (!c.months.has(d.getMonth() + 1)) return false;
  const last = new Date(d.getFullYear(), d.getMonth() + 1, 0).getDate();
  const dom = c.lastDay ? d.getDate() === last : c.days.has(d.getDate());
  const dow = c.weekdays.has(d.getDay());
  // As in cron: when both the day of the month and the weekday are restricted, either will do.
  if (c.starDays && c.starWeekdays) return true;
  if (c.starDays) return dow;
  if (c.starWeekdays) return dom;
  return dom || dow;
}

function list(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

function numbers(values: Set<number>): string {
  const sorted = [...values].sort((a, b) => a - b);
  const items: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (j > i + 1) items.push(`${sorted[i]}-${sorted[j]}`);
    else for (let k = i; k <= j; k++) items.push(String(sorted[k]));
    i = j + 1;
  }
  return list(items);
}

/** Like croner's English `describe`, for the forms people write. */
function describeCron(c: Cron): string {
  const allMinutes = c.minutes.size === 60;
  const allHours = c.hours.size === 24;
  let time: string;
  if (allMinutes && allHours) time = "Every minute";
  else if (c.steps.minutes > 1 && allHours) time = `At every ${c.steps.minutes} minutes`;
  else if (c.minutes.size === 1 && c.hours.size === 1) time = `At ${pad([...c.hours][0])}:${pad([...c.minutes][0])}`;
  else {
    const parts: string[] = [];
    if (c.steps.minutes > 1) parts.push(`every ${c.steps.minutes} minutes`);
    else if (!allMinutes) parts.push(allHours ? `minute ${numbers(c.minutes)} past every hour` : `minute ${numbers(c.minutes)}`);
    if (!allHours) parts.push(c.steps.hours > 1 ? `of every ${c.steps.hours} hours` : `of hour ${numbers(c.hours)}`);
    time = `At ${parts.join(", ")}`;
  }
  const parts = [time];
  const dom = c.lastDay ? "the last day of the month" : `day ${numbers(c.days)}`;
  const dow = list([...c.weekdays].sort((a, b) => a - b).map((d) => WEEKDAY_NAMES[d]));
  if (!c.starDays && c.starWeekdays) parts.push(`on ${dom}`);
  else if (c.starDays && !c.starWeekdays) parts.push(`on ${dow}`);
  else if (!c.starDays && !c.starWeekdays) parts.push(`on ${dom} or ${dow}`);
  if (c.months.size < 12) parts.push(`in ${list([...c.months].sort((a, b) => a - b).map((m) => MONTH_NAMES[m - 1]))}`);
  return `${parts.join(", ")}.`;
}
