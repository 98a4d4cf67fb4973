/**
 * Forwarding the names a container's resolver does not know to its upstream servers,
 * from sockets inside the container's namespace (the upstreams may only be reachable
 * from there), except for the host's loopback nameservers: those are asked from the
 * daemon's namespace, through sockets opened on first use and closed with the forwarder.
 *
 * Each forwarded query gets a fresh random id on the upstream socket; a reply is taken
 * only from an upstream this query was sent to, with that id and the same question.
 * Upstreams are tried in turn, `tryMs` apart (one is retried when it is alone); a reply
 * of SERVFAIL or REFUSED moves on to the next untried one. After `totalMs` without a
 * usable reply the asker gets the last reply seen, else SERVFAIL: never silence, and
 * before a stub resolver's own 5 s timeout. Such a failure is remembered for a few
 * seconds (RFC 9520) so that the stub's immediate retry (busybox retries SERVFAIL once,
 * glibc moves to its next attempt) fails at once instead of waiting again; an upstream
 * that let a query time out is tried last for a while. A truncated reply to a query
 * that came over TCP is fetched again over TCP, through a connection made inside the
 * namespace (the daemon's, for a host loopback upstream).
 */
import { randomFillSync } from 'node:crypto';
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import type { Upstream } from './upstreams.js';
import { frameTcp, parseReplyHead, RCODE, rcodeReply, TcpFrameReader, withId, type Query } from './message.js';

export interface ForwardTiming {
  /** Time before the next upstream (or the same, when alone) is tried. */
  tryMs: number;
  /** Time after which the asker gets SERVFAIL. */
  totalMs: number;
}

export const DEFAULT_TIMING: ForwardTiming = { tryMs: 2000, totalMs: 4000 };

/** Docker's limit of outstanding forwarded queries per container. */
const MAX_IN_FLIGHT = 1024;
/** How long a failed question is answered SERVFAIL at once, and how many are kept. */
const FAILURE_CACHE_MS = 5000;
const FAILURE_CACHE_SIZE = 1024;
/** How long an upstream that let a query time out is tried after the others. */
const SUSPECT_MS = 30_000;

export interface DnsLog {
  debug(msg: string): void;
  warn(msg: string): void;
}

export interface ForwarderDeps {
  log: DnsLog;
  timing: ForwardTiming;
  /** Upstream port (53; other values for tests). */
  port: number;
  /** A TCP connection to an upstream, from the namespace it is asked from; absent: no TCP retry. */
  connectTcp: ((upstream: Upstream, port: number) => Promise<net.Socket>) | undefined;
  /** A UDP socket in the daemon's namespace, for upstreams `fromHost`; called at most once per family. */
  openHostUdp: (family: 4 | 6) => dgram.Socket;
}

export interface ForwardRequest {
  raw: Buffer;
  query: Query;
  transport: 'udp' | 'tcp';
  /** Identifies the asker (address, port or connection) for duplicate detection. */
  client: string;
  reply: (msg: Buffer) => void;
}

interface Pending {
  req: ForwardRequest;
  id: number;
  key: string;
  upstreamQuery: Buffer;
  /** The upstreams in the order this query tries them. */
  order: Upstream[];
  /** Keys (upstreamKey) of the upstreams asked, and of those that answered. */
  sentTo: Set<string>;
  answeredBy: Set<string>;
  attempts: number;
  sendFailures: number;
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  last: Buffer | undefined;
  overTcp: boolean;
}

export class Forwarder {
  private upstreams: Upstream[] = [];
  private readonly inFlight = new Map<number, Pending>();
  private readonly byClient = new Map<string, Pending>();
  /** Question -> time until which it is answered SERVFAIL without asking. */
  private readonly failures = new Map<string, number>();
  /** Upstream key -> time until which it is tried last. */
  private readonly suspects = new Map<string, number>();
  /** Sockets in the daemon's namespace, opened with the first host loopback upstream asked. */
  private readonly hostSockets = new Map<4 | 6, dgram.Socket>();
  private readonly ids = new Uint16Array(256);
  private idPos = this.ids.length;
  private closed = false;

  constructor(
    private readonly v4: dgram.Socket,
    private readonly v6: dgram.Socket | undefined,
    private readonly deps: ForwarderDeps,
  ) {
    for (const s of [v4, v6]) if (s !== undefined) this.listen(s, false);
  }

  /** Replace the upstream list (tried in this order); forgets past failures. */
  setUpstreams(upstreams: readonly Upstream[]): void {
    this.upstreams = [...upstreams];
    this.failures.clear();
    this.suspects.clear();
  }

  get hasUpstreams(): boolean {
    return this.upstreams.length > 0;
  }

  /** Number of queries waiting for an upstream. */
  get pending(): number {
    return this.inFlight.size;
  }

  forward(req: ForwardRequest): void {
    if (this.closed) return;
    const key = `${req.client}#${req.query.id}`;
    // A stub resolver's retransmission of a query still in flight: the first answer serves both.
    if (this.byClient.has(key)) return;
    if (this.inFlight.size >= MAX_IN_FLIGHT || this.upstreams.length === 0 || this.failedRecently(req.query)) {
      return req.reply(rcodeReply(req.raw, req.query, RCODE.SERVFAIL));
    }
    const id = this.freeId();
    const p: Pending = {
      req,
      id,
      key,
      upstreamQuery: withId(req.raw, id),
      order: this.upstreamOrder(),
      sentTo: new Set(),
      answeredBy: new Set(),
      attempts: 0,
      sendFailures: 0,
      deadline: Date.now() + this.deps.timing.totalMs,
      timer: undefined,
      last: undefined,
      overTcp: false,
    };
    this.inFlight.set(id, p);
    this.byClient.set(key, p);
    this.attempt(p);
  }

  /** Drop all pending queries (no replies) and close the upstream sockets. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.inFlight.values()) clearTimeout(p.timer);
    this.inFlight.clear();
    this.byClient.clear();
    for (const s of [this.v4, this.v6, ...this.hostSockets.values()]) {
      try {
        s?.close();
      } catch {
        // already closed
      }
    }
  }

  private listen(socket: dgram.Socket, fromHost: boolean): void {
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onReply(msg, rinfo, fromHost));
    socket.on('error', (e: Error) => this.deps.log.debug(`dns upstream socket${fromHost ? ' (host)' : ''}: ${e.message}`));
  }

  private socketFor(upstream: Upstream): dgram.Socket | undefined {
    const family = upstream.address.includes(':') ? 6 : 4;
    if (!upstream.fromHost) return family === 6 ? this.v6 : this.v4;
    let socket = this.hostSockets.get(family);
    if (socket === undefined) {
      socket = this.deps.openHostUdp(family);
      this.listen(socket, true);
      this.hostSockets.set(family, socket);
    }
    return socket;
  }

  private freeId(): number {
    for (;;) {
      if (this.idPos >= this.ids.length) {
        randomFillSync(this.ids);
        this.idPos = 0;
      }
      const id = this.ids[this.idPos++]!;
      if (!this.inFlight.has(id)) return id;
    }
  }

  private attempt(p: Pending): void {
    if (this.inFlight.get(p.id) !== p) return;
    const now = Date.now();
    if (now >= p.deadline || this.upstreams.length === 0) return this.finish(p, p.last);
    const previous = p.attempts > 0 ? p.order[(p.attempts - 1) % p.order.length] : undefined;
    if (previous !== undefined && p.sentTo.has(upstreamKey(previous)) && !p.answeredBy.has(upstreamKey(previous))) {
      this.suspect(upstreamKey(previous), now);
    }
    const upstream = p.order[p.attempts % p.order.length]!;
    const key = upstreamKey(upstream);
    p.attempts++;
    const socket = this.socketFor(upstream);
    const perTry = Math.min(this.deps.timing.tryMs, Math.max(1, Math.floor(this.deps.timing.totalMs / p.order.length)));
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.attempt(p), Math.min(perTry, p.deadline - now));
    if (socket === undefined) return this.sendFailed(p, key, 'no IPv6 socket in the namespace');
    p.sentTo.add(key);
    socket.send(p.upstreamQuery, this.deps.port, upstream.address, (e: Error | null) => {
      if (e) this.sendFailed(p, key, e.message);
    });
  }

  /** The upstream cannot be sent to (no route, no IPv6): try the next one at once. */
  private sendFailed(p: Pending, upstream: string, why: string): void {
    this.deps.log.debug(`dns forward to ${upstream} failed: ${why}`);
    if (this.inFlight.get(p.id) !== p || p.overTcp) return;
    if (++p.sendFailures >= p.order.length) return this.finish(p, p.last);
    setImmediate(() => this.attempt(p));
  }

  private onReply(msg: Buffer, rinfo: dgram.RemoteInfo, fromHost: boolean): void {
    const head = parseReplyHead(msg);
    if (head === undefined) return;
    const p = this.inFlight.get(head.id);
    if (p === undefined || p.overTcp) return;
    const address = rinfo.address.startsWith('::ffff:') ? rinfo.address.slice(7) : rinfo.address;
    // The namespace counts: a process in the container could answer from its own 127.0.0.53.
    const from = upstreamKey({ address, fromHost });
    const q = p.req.query.question;
    const sameQuestion =
      head.question !== undefined && head.question.name === q.name && head.question.type === q.type && head.question.class === q.class;
    // Anything else is late, misdirected or spoofed.
    if (!p.sentTo.has(from) || rinfo.port !== this.deps.port || !sameQuestion) return;
    p.answeredBy.add(from);
    this.suspects.delete(from);
    if (head.rcode === RCODE.SERVFAIL || head.rcode === RCODE.REFUSED) {
      p.last = msg;
      if (p.sentTo.size < p.order.length) this.attempt(p);
      else this.finish(p, msg);
      return;
    }
    if (head.truncated && p.req.transport === 'tcp' && this.deps.connectTcp !== undefined) {
      return void this.retryOverTcp(p, { address, fromHost }, msg);
    }
    this.finish(p, msg);
  }

  private async retryOverTcp(p: Pending, upstream: Upstream, truncated: Buffer): Promise<void> {
    p.overTcp = true;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => this.finish(p, truncated), Math.max(0, p.deadline - Date.now()));
    let sock: net.Socket | undefined;
    try {
      sock = await this.deps.connectTcp!(upstream, this.deps.port);
      if (this.inFlight.get(p.id) !== p) return;
      const reply = await readOneTcpReply(sock, frameTcp(p.upstreamQuery));
      const head = parseReplyHead(reply);
      this.finish(p, head?.id === p.id ? reply : truncated);
    } catch (e: unknown) {
      this.deps.log.debug(`dns TCP retry to ${upstreamKey(upstream)} failed: ${e instanceof Error ? e.message : String(e)}`);
      this.finish(p, truncated);
    } finally {
      sock?.destroy();
    }
  }

  private finish(p: Pending, reply: Buffer | undefined): void {
    if (this.inFlight.get(p.id) !== p) return;
    clearTimeout(p.timer);
    this.inFlight.delete(p.id);
    this.byClient.delete(p.key);
    if (reply === undefined) this.noteFailure(p);
    const out = reply === undefined ? rcodeReply(p.req.raw, p.req.query, RCODE.SERVFAIL) : withId(reply, p.req.query.id);
    p.req.reply(out);
  }

  /** Healthy upstreams in configured order, then the suspect ones. */
  private upstreamOrder(): Upstream[] {
    if (this.suspects.size === 0) return this.upstreams;
    const now = Date.now();
    const suspect = (u: Upstream): boolean => (this.suspects.get(upstreamKey(u)) ?? 0) > now;
    return [...this.upstreams.filter((u) => !suspect(u)), ...this.upstreams.filter(suspect)];
  }

  private failedRecently(query: Query): boolean {
    const key = questionKey(query);
    const until = this.failures.get(key);
    if (until === undefined) return false;
    if (until > Date.now()) return true;
    this.failures.delete(key);
    return false;
  }

  /** No usable reply in time: remember the question, suspect the silent upstreams. */
  private noteFailure(p: Pending): void {
    const now = Date.now();
    if (this.failures.size >= FAILURE_CACHE_SIZE) {
      for (const [k, until] of this.failures) if (until <= now) this.failures.delete(k);
      if (this.failures.size >= FAILURE_CACHE_SIZE) this.failures.clear();
    }
    this.failures.set(questionKey(p.req.query), now + FAILURE_CACHE_MS);
    for (const u of p.sentTo) if (!p.answeredBy.has(u)) this.suspect(u, now);
  }

  private suspect(upstream: string, now: number): void {
    if (this.upstreams.length > 1) this.suspects.set(upstream, now + SUSPECT_MS);
  }
}

/** An upstream's identity in this file's sets and logs: Docker's notation, host(127.0.0.53). */
function upstreamKey(u: Upstream): string {
  return u.fromHost ? `host(${u.address})` : u.address;
}

function questionKey(query: Query): string {
  const q = query.question;
  return `${q.type}/${q.class}/${q.name}`;
}

/** Send one framed query on a connected socket and read the first framed reply. */
async function readOneTcpReply(sock: net.Socket, framed: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const reader = new TcpFrameReader();
    sock.on('data', (chunk: Buffer) => {
      const [first] = reader.push(chunk);
      if (first !== undefined) resolve(first);
    });
    sock.on('error', reject);
    sock.on('close', () => reject(new Error('connection closed before a reply')));
    sock.resume();
    sock.write(framed);
  });
}
