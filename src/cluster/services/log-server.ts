/**
 * Task logs between nodes: every node serves the logs of its own tasks' containers on
 * TASK_LOGS_PORT, over TLS with the swarm's certificates on both sides, to managers only
 * (a manager's `service logs` gathers its tasks' lines from the nodes they run on). The
 * caller's certificate must chain to the swarm's root, name this cluster and a manager
 * role, and the caller must still be a manager in the store (a demoted node keeps its old
 * certificate until it is replaced); anything else is refused before a line is read.
 *
 * One request per task: GET /tasks/<id>/logs?follow=1&tail=N&since=S.N, answered with one
 * JSON object per line ({stream, sec, nsec, line: base 64}); while following, an empty
 * line every HEARTBEAT_MS tells the caller the node is still there (a node that vanished
 * without closing its sockets is noticed within IDLE_MS, not never).
 */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { messageOf, unavailable } from '../../errors.js';
import type { LogRecord, LogStream, LogTime } from '../../logs/message.js';
import { certIdentity } from '../ca.js';
import { serveOn, type Serving } from '../serving.js';

/** Where every node serves its tasks' logs. */
export const TASK_LOGS_PORT = 2378;
const HEARTBEAT_MS = 2000;
const IDLE_MS = 4 * HEARTBEAT_MS;

/** The swarm's TLS material as a node holds it (PEM). */
export interface NodeTls {
  ca: string;
  cert: string;
  key: string;
}

/** How a task's logs are asked for. */
export interface TaskLogOptions {
  follow: boolean;
  /** The last n lines only. */
  tail?: number;
  since?: LogTime;
}

export interface TaskLogServerOptions {
  listen: { host: string; port: number };
  tls: NodeTls;
  clusterId: string;
  /** Whether the node is a manager now (its record in the store). */
  isManager(nodeId: string): Promise<boolean>;
  /** This node's task's log records (none when it has no container for it). */
  read(taskId: string, opts: TaskLogOptions, signal: AbortSignal): AsyncIterable<LogRecord>;
  log: (m: string) => void;
}

interface WireRecord {
  stream: LogStream;
  sec: number;
  nsec: number;
  line: string;
}

/** Serve this node's task logs to the swarm's managers; resolves when it listens. */
export async function serveTaskLogs(o: TaskLogServerOptions): Promise<Serving> {
  const server = https.createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.on('error', () => undefined);
    req.on('error', () => undefined);
    void (async () => {
      const refuse = (status: number, message: string): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ message }));
      };
      const url = new URL(req.url ?? '/', 'https://node');
      const m = /^\/tasks\/([A-Za-z0-9]+)\/logs$/.exec(url.pathname);
      if (req.method !== 'GET' || !m) return refuse(404, 'page not found');
      try {
        const caller = await certIdentity(new X509Certificate((req.socket as TLSSocket).getPeerCertificate().raw).toString(), o.tls.ca);
        if (caller.clusterId !== o.clusterId || caller.role !== 'manager' || !(await o.isManager(caller.nodeId))) return refuse(403, 'only managers of this swarm read task logs');
      } catch (e: unknown) {
        return refuse(403, `a node certificate of this swarm is needed: ${messageOf(e)}`);
      }
      const q = url.searchParams;
      const tail = q.get('tail');
      const since = /^(\d+)\.(\d+)$/.exec(q.get('since') ?? '');
      const opts: TaskLogOptions = { follow: q.get('follow') === '1', ...(tail !== null ? { tail: Number(tail) } : {}), ...(since ? { since: { sec: Number(since[1]), nsec: Number(since[2]) } } : {}) };
      const ac = new AbortController();
      res.on('close', () => ac.abort());
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      res.flushHeaders();
      const beat = opts.follow ? setInterval(() => res.write('\n'), HEARTBEAT_MS) : undefined;
      try {
        for await (const r of o.read(m[1]!, opts, ac.signal)) {
          const w: WireRecord = { stream: r.stream, sec: r.time.sec, nsec: r.time.nsec, line: r.line.toString('base64') };
          if (!res.write(JSON.stringify(w) + '\n')) await once(res, 'drain', { signal: ac.signal }).catch(() => undefined);
          if (ac.signal.aborted) break;
        }
      } catch (e: unknown) {
        if (!ac.signal.aborted) o.log(`task logs: ${m[1]}: ${messageOf(e)}`);
      } finally {
        clearInterval(beat);
        res.end();
      }
    })();
  });
  return serveOn(server, o.listen);
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
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request({ host: addr, port, method: 'GET', path: `/tasks/${taskId}/logs?${q.toString()}`, ca: tls.ca, cert: tls.cert, key: tls.key, signal, timeout: IDLE_MS }, resolve);
    req.on('timeout', () => req.destroy(gone('timed out')));
    req.on('error', reject);
    req.end();
  });
  if (res.statusCode !== 200) {
    let text = '';
    for await (const b of res) text += (b as Buffer).toString();
    throw gone(`answered ${res.statusCode}: ${text.slice(0, 200)}`);
  }
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
