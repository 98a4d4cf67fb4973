/**
 * A log message as the drivers see it (Docker's logger.Message): one line of a
 * container's output, or one piece of a longer one, with the time berth read it.
 */

/** A moment with nanoseconds: conmon stamps lines with them, and Docker's formats keep them. */
export interface LogTime {
  /** Whole seconds since the epoch. */
  sec: number;
  /** 0 to 999 999 999. */
  nsec: number;
}

/** Where a piece of a line longer than Docker's 16 KiB buffer belongs (Docker's PartialLogMetaData). */
export interface PartialMeta {
  /** The same for every piece of one line (64 hex digits). */
  id: string;
  /** 1 for the first piece. */
  ordinal: number;
  /** The piece that ends the line. */
  last: boolean;
}

export type LogStream = 'stdout' | 'stderr';

export interface LogMessage {
  stream: LogStream;
  /** The bytes, without the line's newline. */
  line: Buffer;
  time: LogTime;
  /** Set on the pieces of a long line, and on output that ended without a newline. */
  partial?: PartialMeta;
}

/**
 * What a log reader gives back for `docker logs`: the bytes as shown (a complete line
 * with its newline), and the attributes a driver stored with it (--details).
 */
export interface LogRecord {
  stream: LogStream;
  line: Buffer;
  time: LogTime;
  attrs: readonly (readonly [string, string])[];
}

/** A complete line, or the last piece of one: it gets its newline back. */
export function endsLine(m: LogMessage): boolean {
  return m.partial === undefined || m.partial.last;
}

export function timeFromMs(ms: number): LogTime {
  const sec = Math.floor(ms / 1000);
  return { sec, nsec: Math.round((ms - sec * 1000) * 1e6) };
}

export function timeToMs(t: LogTime): number {
  return t.sec * 1000 + t.nsec / 1e6;
}

/** Nanoseconds since the epoch (protobuf's time_nano). */
export function timeToNanos(t: LogTime): bigint {
  return BigInt(t.sec) * 1_000_000_000n + BigInt(t.nsec);
}

export function timeFromNanos(n: bigint): LogTime {
  const sec = n / 1_000_000_000n;
  return { sec: Number(sec), nsec: Number(n - sec * 1_000_000_000n) };
}

/** -1, 0 or 1. */
export function compareTimes(a: LogTime, b: LogTime): number {
  return a.sec !== b.sec ? Math.sign(a.sec - b.sec) : Math.sign(a.nsec - b.nsec);
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped ("…T10:00:00.5Z", "…T10:00:00Z"). */
export function rfc3339Nano(t: LogTime): string {
  const frac = t.nsec === 0 ? '' : `.${pad(t.nsec, 9).replace(/0+$/, '')}`;
  return `${utcSeconds(t.sec)}${frac}Z`;
}

/** Docker's RFC3339NanoFixed in UTC: always nine digits (docker logs -t). */
export function rfc3339NanoFixed(t: LogTime): string {
  return `${utcSeconds(t.sec)}.${pad(t.nsec, 9)}Z`;
}

/** The last second formatted: lines come many to a second, and formatting a Date is slow. */
let cachedSec = NaN;
let cachedText = '';

function utcSeconds(sec: number): string {
  if (sec !== cachedSec) {
    cachedText = new Date(sec * 1000).toISOString().slice(0, 19);
    cachedSec = sec;
  }
  return cachedText;
}

/**
 * An RFC 3339 time with up to nine fraction digits and any offset ("…+02:00", "Z").
 * Null when it is not one.
 */
export function parseRfc3339(text: string): LogTime | null {
  const m = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d\d):?(\d\d))$/.exec(text);
  if (!m) return null;
  const offsetMin = m[8] === undefined ? 0 : (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (Number.isNaN(ms)) return null;
  return { sec: ms / 1000 - offsetMin * 60, nsec: Number((m[7] ?? '').padEnd(9, '0')) };
}

/** The local time zone's offset as Go prints it in RFC 3339 ("Z" in UTC, else "+02:00"). */
export function localOffset(ms: number): string {
  const minutes = -new Date(ms).getTimezoneOffset();
  if (minutes === 0) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export interface LocalParts {
  year: number;
  /** 0 to 11. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** As Go prints it in RFC 3339: "Z" or "+02:00". */
  offset: string;
}

/**
 * The local wall clock of a time, to the second. Lines come many to a second and a Date
 * is slow to take apart: the last second is kept (with the TZ it was computed under).
 */
export function localParts(t: LogTime): LocalParts {
  const tz = process.env.TZ;
  if (t.sec !== localSec || tz !== localTz) {
    const d = new Date(t.sec * 1000);
    localSec = t.sec;
    localTz = tz;
    localCache = {
      year: d.getFullYear(), month: d.getMonth(), day: d.getDate(), hour: d.getHours(), minute: d.getMinutes(), second: d.getSeconds(),
      offset: localOffset(t.sec * 1000),
    };
  }
  return localCache;
}

let localSec = NaN;
let localTz: string | undefined;
let localCache: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, offset: 'Z' };
