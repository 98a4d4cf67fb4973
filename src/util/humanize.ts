/**
 * How docker shows numbers, durations, times and strings to people: go-units'
 * HumanDuration and HumanSize, the formatter's Ellipsis, Go's strconv.Quote and
 * time.Time.String(). Pure functions; the clock is always passed in.
 */

/** go-units HumanDuration for a duration in milliseconds ("5 seconds", "About an hour"). */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}

/** "<duration> ago" for a Unix time in seconds, as `docker ps` shows CREATED. */
export function timeAgo(unixSeconds: number, nowMs: number): string {
  return `${humanDuration(nowMs - unixSeconds * 1000)} ago`;
}

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** go-units HumanSizeWithPrecision: decimal units, `%.<precision>g` ("4.26MB", "0B"). */
export function humanSize(bytes: number, precision = 4): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[i]}`;
}

/** Go's `%.<p>g`: shortest form without trailing zeros, exponent as `e+03`. */
export function formatG(n: number, precision: number): string {
  if (n === 0) return '0';
  const s = n.toPrecision(precision);
  const [mantissa = s, exp] = s.split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
  if (exp === undefined) return trimmed;
  const e = Number(exp);
  return `${trimmed}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

/** The formatter's Ellipsis: at most `max` characters, the last one replaced by `…`. */
export function ellipsis(s: string, max: number): string {
  if (max <= 0) return '';
  const chars = [...s];
  if (max === 1) return chars[0] ?? '';
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}

/** Go's strconv.Quote: double quotes, backslash escapes, control characters as \xNN. */
export function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if (c >= 0x80 && c < 0xa0) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

const ESCAPES: Readonly<Record<string, string>> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };

/**
 * Go's time.Time.String() for a Unix time in the local zone:
 * "2024-06-01 10:11:12 +0000 UTC". The zone name is what the platform calls it.
 */
export function localTimeString(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const zone = `${sign}${pad(Math.trunc(Math.abs(offset) / 60))}${pad(Math.abs(offset) % 60)}`;
  const date = `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${date} ${time} ${zone} ${zoneName(d, offset)}`;
}

function zoneName(d: Date, offsetMinutes: number): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  const name = part?.value ?? '';
  if (offsetMinutes === 0 && (name === 'GMT' || name === 'UTC' || name === '')) return 'UTC';
  return name;
}
