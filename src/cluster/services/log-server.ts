/**
 * Task logs between nodes: every node serves the logs of its own tasks' containers on its
 * node endpoint (node-endpoint.ts), to managers only (a manager's `service logs` gathers
 * its tasks' lines from the nodes they run on).
 *
 * One request per task: GET /tasks/<id>/logs?follow=1&tail=N&since=S.N, answered with one
 * JSON object per line ({stream, sec, nsec, line: base 64}); while following, an empty
 * line every HEARTBEAT_MS tells the caller the node is still there (a node that vanished
 * without closing its sockets is noticed within IDLE_MS, not never).
 */
import { once } from 'node:events';
import { messageOf, unavailable } from '../../errors.js';
import type { LogRecord, LogStream, LogTime } from '../../logs/message.js';
import { askNode, type NodeRoute, type NodeTls } from '../node-endpoint.js';

const HEARTBEAT_MS = 2000;
const IDLE_MS = 4 * HEARTBEAT_MS;

/** How a task's logs are asked for. */
export interface TaskLogOptions {
  follow: boolean;
  /** The last n lines only. */
  tail?: number;
  since?: LogTime;
}

/** This node's task's log records (none when it has no container for it). */
export type ReadTaskLogs = (taskId: string, opts: TaskLogOptions, signal: AbortSignal) => AsyncIterable<LogRecord>;

interface WireRecord {
  stream: LogStream;
  sec: number;
  nsec: number;
  line: string;
}

/** The node endpoint's route for this node's task logs. */
export function taskLogsRoute(read: ReadTaskLogs, log: (m: string) => void): NodeRoute {
  return {
    path: /^\/tasks\/([A-Za-z0-9]+)\/logs$/,
    allow: { managers: 'only managers of this swarm read task logs' },
    handle: async (req, res, m) => {
      const q = new URL(req.url ?? '/', 'https://node').searchParams;
      const tail = q.get('tail');
      const since = /^(\d+)\.(\d+)$/.exec(q.get('since') ?? '');
      const opts: TaskLogOptions = { follow: q.get('follow') === '1', ...(tail !== null ? { tail: Number(tail) } : {}), ...(since ? { since: { sec: Number(since[1]), nsec: Number(since[2]) } } : {}) };
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.flushHeaders();
      const beat = opts.follow ? setInterval(() => res.write('\n'), HEARTBEAT_MS) : undefined;
      try {
        for await (const r of read(m[1]!, opts, ac.signal)) {
          const w: WireRecord = { stream: r.stream, sec: r.time.sec, nsec: r.time.nsec, line: r.line.toString('base64') };
          if (!res.write(JSON.stringify(w) + '\n')) await once(res, 'drain', { signal: ac.signal }).catch(() => undefined);
          if (ac.signal.aborted) break;
        }
      } catch (e: unknown) {
        if (!ac.signal.aborted) log(`task logs: ${m[1]}: ${messageOf(e)}`);
      } finally {
        clearInterval(beat);
        res.end();
      }
    },
  };
}

/**
 * A task's log records from the node at `addr`, as this manager (its certificate).
 * Throws Unavailable when the node cannot be reached or its stream breaks off (it died,
 * or stayed silent past IDLE_MS while following).
 */
export async function* fetchTaskLogs(addr: string, port: number, taskId: string, opts: TaskLogOptions, tls: NodeTls, signal: AbortSignal): AsyncGenerator<LogRecord> {
  const q = new URLSearchParams();
  if (opts.follow) q.set('follow', '1');
  if (opts.tail !== undefined) q.set('tail', String(opts.tail));
  if (opts.since) q.set('since', `${opts.since.sec}.${opts.since.nsec}`);
  const gone = (why: string): Error => unavailable(why);
  const res = await askNode(addr, port, `/tasks/${taskId}/logs?${q.toString()}`, tls, { signal, timeoutMs: IDLE_MS });
  let ended = false;
  res.on('end', () => (ended = true));
  let rest = '';
  try {
    for await (const chunk of res) {
      rest += (chunk as Buffer).toString();
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        const text = rest.slice(0, nl);
        rest = rest.slice(nl + 1);
        if (text === '') continue;
        const w = JSON.parse(text) as WireRecord;
        yield { stream: w.stream, time: { sec: w.sec, nsec: w.nsec }, line: Buffer.from(w.line, 'base64'), attrs: [] };
      }
    }
  } catch (e: unknown) {
    if (signal.aborted) return;
    throw gone(messageOf(e));
  }
  if (!ended && !signal.aborted) throw gone('its stream broke off');
}
