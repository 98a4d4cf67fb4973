/**
 * `--since`/`--until` values as docker's client sends them (api/types/time.GetTimestamp):
 * a Go duration ("42m", "1h30m") counts back from now and becomes Unix seconds; an
 * RFC 3339 date or time (local time unless it has a zone) becomes "sec.nanosec"; a Unix
 * timestamp passes through unchanged.
 */

const UNIT_MS: Readonly<Record<string, number>> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds; undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d*\.?\d*(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(s);
  if (!m) return s === '0' ? 0 : undefined;
  let total = 0;
  for (const part of m[2]!.matchAll(/(\d*\.?\d*)(ns|us|µs|μs|ms|s|m|h)/g)) {
    const num = part[1] ?? '';
    if (num === '' || num === '.') return undefined;
    total += Number(num) * (UNIT_MS[part[2] ?? ''] ?? 0);
  }
  return m[1] === '-' ? -total : total;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/;

/** GetTimestamp: the query value for `since`/`until`; throws on a value docker rejects. */
export function getTimestamp(value: string, nowMs: number): string {
  const d = parseGoDuration(value);
  if (value !== '0' && d !== undefined) return String(Math.floor((nowMs - d) / 1000));
  const m = TIME_RE.exec(value);
  if (m) {
    const [, y, mo, day, h = '0', mi = '0', sec = '0', frac = '', zone] = m;
    const fields = [Number(y), Number(mo) - 1, Number(day), Number(h), Number(mi), Number(sec)] as const;
    let ms: number;
    if (zone === undefined) {
      ms = new Date(...fields).getTime();
    } else {
      ms = Date.UTC(...fields);
      if (zone !== 'Z' && zone !== 'z') {
        const sign = zone.startsWith('-') ? -1 : 1;
        ms -= sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6))) * 60_000;
      }
    }
    const seconds = Math.floor(ms / 1000);
    return `${seconds}.${frac.padEnd(9, '0')}`;
  }
  if (value.includes('-')) throw new Error(`parsing time ${JSON.stringify(value)}: cannot parse as RFC 3339`);
  if (!/^\d+(\.\d+)?$/.test(value)) throw new Error(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
  return value;
}
