/**
 * When people answer: SERVICE_HOURS ("09:00-21:00", every day; "22:00-06:00" runs past midnight)
 * in SERVICE_TIMEZONE (an IANA name, default Asia/Shanghai). Read and checked once at start-up.
 */
export interface ServiceHours {
  /** Minutes after midnight, local time; `to` is exclusive. */
  fromMinute: number;
  toMinute: number;
  timezone: string;
  /** As users read it: "09:00-21:00". */
  label: string;
}

export class ServiceHoursError extends Error {
  override name = 'ServiceHoursError';
}

const clock = /^([01]\d|2[0-4]):([0-5]\d)$/;

function minuteOf(value: string, setting: string): number {
  const match = clock.exec(value);
  const minute = match ? Number(match[1]) * 60 + Number(match[2]) : NaN;
  if (!match || minute > 24 * 60) throw new ServiceHoursError(`${setting} must look like 09:00-21:00, got "${value}"`);
  return minute;
}

export function parseServiceHours(hours = '09:00-21:00', timezone = 'Asia/Shanghai'): ServiceHours {
  const parts = hours.split('-').map((part) => part.trim());
  if (parts.length !== 2) throw new ServiceHoursError(`SERVICE_HOURS must look like 09:00-21:00, got "${hours}"`);
  const fromMinute = minuteOf(parts[0]!, 'SERVICE_HOURS');
  const toMinute = minuteOf(parts[1]!, 'SERVICE_HOURS');
  if (fromMinute === toMinute) throw new ServiceHoursError(`SERVICE_HOURS "${hours}" is empty (use 00:00-24:00 for all day)`);
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new ServiceHoursError(`SERVICE_TIMEZONE "${timezone}" is not a time zone (use an IANA name such as Asia/Shanghai)`);
  }
  return { fromMinute, toMinute, timezone, label: `${parts[0]}-${parts[1]}` };
}

// Building an Intl.DateTimeFormat costs about a millisecond (it loads the zone's rules); every turn
// asks whether someone can answer, so each zone's formatter is made once.
const clockFormats = new Map<string, Intl.DateTimeFormat>();

function clockFormat(timezone: string): Intl.DateTimeFormat {
  let format = clockFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormats.set(timezone, format);
  }
  return format;
}

/**
 * The local minute of the day at `at`. Every turn asks, and formatToParts is a good part of a turn's
 * own time: time zones' offsets are whole minutes, so the answer holds for the whole UTC minute and
 * the last one is kept per zone.
 */
const lastMinutes = new Map<string, { utcMinute: number; localMinute: number }>();

function localMinuteOfDay(timezone: string, at: Date): number {
  const utcMinute = Math.floor(at.getTime() / 60_000);
  const last = lastMinutes.get(timezone);
  if (last?.utcMinute === utcMinute) return last.localMinute;
  const local = clockFormat(timezone).formatToParts(at);
  const localMinute = Number(local.find((part) => part.type === 'hour')!.value) * 60 + Number(local.find((part) => part.type === 'minute')!.value);
  lastMinutes.set(timezone, { utcMinute, localMinute });
  return localMinute;
}

export function withinServiceHours(hours: ServiceHours, at: Date): boolean {
  const minute = localMinuteOfDay(hours.timezone, at);
  return hours.fromMinute < hours.toMinute ? minute >= hours.fromMinute && minute < hours.toMinute : minute >= hours.fromMinute || minute < hours.toMinute;
}
