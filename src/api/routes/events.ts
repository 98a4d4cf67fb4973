/**
 * GET /events: the kept events between since and until, then (unless until has passed)
 * the live ones, as newline-delimited JSON, until `until` comes or the client goes.
 */
import { invalid } from '../../errors.js';
import type { EventBus } from '../../events/bus.js';
import { EVENT_FILTER_KEYS, eventMatches } from '../../events/filter.js';
import type { EventMessage } from '../../events/types.js';
import { API_VERSION, type Router } from '../router.js';
import { parseFilters } from '../wire.js';

/** Past this much unsent output, a slow reader misses events (dockerd skips a listener after 100 ms). */
const MAX_BACKLOG = 4 << 20;

export function eventRoutes(router: Router, bus: EventBus): void {
  router.add('GET', '/events', async (req) => {
    const sinceText = req.query.get('since') ?? '';
    const untilText = req.query.get('until') ?? '';
    const since = parseTime('since', sinceText);
    const until = parseTime('until', untilText);
    if (until !== undefined && until < (since ?? 0n)) {
      throw invalid(`\`since\` time (${sinceText}) cannot be after \`until\` time (${untilText})`);
    }
    const filters = parseFilters(req.query.get('filters'));
    for (const key of Object.keys(filters)) if (!EVENT_FILTER_KEYS.has(key)) throw invalid(`invalid filter '${key}'`);
    const res = req.res;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': API_VERSION, 'Docker-Experimental': 'false', Ostype: 'linux', Server: 'berth' });
    res.flushHeaders();
    const send = (m: EventMessage): void => {
      if (res.writableLength < MAX_BACKLOG) res.write(eventJson(m) + '\n');
    };
    const sub = bus.subscribe({
      ...(since !== undefined ? { since } : {}),
      ...(until !== undefined ? { until } : {}),
      match: (m) => eventMatches(filters, m),
      onEvent: send,
    });
    for (const m of sub.replay) send(m);
    const untilMs = until === undefined ? undefined : Number(until / 1_000_000n);
    if (untilMs !== undefined && untilMs <= Date.now()) {
      sub.cancel();
      res.end();
      return { handled: true };
    }
    await new Promise<void>((resolve) => {
      const timer = untilMs === undefined ? undefined : setTimeout(resolve, untilMs - Date.now());
      res.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    sub.cancel();
    res.end();
    return { handled: true };
  });
}

/**
 * One event as API 1.44 sends it: with the fields Docker deprecated in 1.22 but still
 * sends before 1.52 (status, id, from), which older CLIs and compose read.
 */
export function eventJson(m: EventMessage): string {
  const legacy =
    m.Type === 'container'
      ? { status: m.Action, id: m.Actor.ID, from: m.Actor.Attributes.image ?? '' }
      : m.Type === 'image'
        ? { status: m.Action, id: m.Actor.ID }
        : {};
  const body = JSON.stringify({ ...legacy, Type: m.Type, Action: m.Action, Actor: m.Actor, scope: m.scope, time: m.time });
  return `${body.slice(0, -1)},"timeNano":${m.timeNano}}`;
}

/**
 * dockerd's ParseUnixTimestamp: "seconds" or "seconds.fraction" (the CLI turns durations
 * and RFC 3339 times into this). Nanoseconds; undefined for an empty value.
 */
export function parseTime(name: string, value: string): bigint | undefined {
  if (value === '') return undefined;
  const fail = (why: string) => invalid(`invalid value for '${name}': invalid timestamp "${value}": ${why}`);
  const dot = value.indexOf('.');
  const secText = dot < 0 ? value : value.slice(0, dot);
  const fracText = dot < 0 ? '' : value.slice(dot + 1);
  if (!/^[+-]?\d+$/.test(secText)) throw fail(`invalid seconds "${secText}": invalid syntax`);
  const sec = BigInt(secText);
  if (sec > 9223372036854775807n || sec < -9223372036854775808n) throw fail(`invalid seconds "${secText}": value out of range`);
  if (fracText.length > 20) throw fail(`invalid nanoseconds: length ${fracText.length} exceeds maximum 20`);
  const bad = /[^0-9]/.exec(fracText);
  if (bad) throw fail(`invalid nanoseconds: invalid character '${bad[0]}' at position ${bad.index}`);
  const nano = BigInt(fracText.slice(0, 9).padEnd(9, '0'));
  return sec * 1_000_000_000n + nano;
}
