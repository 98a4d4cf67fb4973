/**
 * One container's embedded resolver: serves its UDP and TCP sockets at 127.0.0.11:53
 * (opened inside the container's namespace, served from the daemon's event loop)
 * against the shared directory, and hands unknown names to its forwarder.
 *
 * A malformed packet gets FORMERR when its header can be read and is dropped
 * otherwise; nothing a client sends can throw out of a handler.
 */
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import type { DnsDirectory } from './directory.js';
import { Forwarder, type DnsLog, type ForwarderDeps } from './forwarder.js';
import type { Upstream } from './upstreams.js';
import { buildReply, CLASS_IN, frameTcp, maxReplySize, parseQuery, RCODE, rcodeReply, TcpFrameReader, type Query } from './message.js';

export interface ResolverSockets {
  /** 127.0.0.11:53/udp in the container's namespace. */
  udp: dgram.Socket;
  /** 127.0.0.11:53/tcp in the container's namespace. */
  tcp: net.Server;
  /** Unconnected upstream sockets in the container's namespace (0.0.0.0:0, [::]:0). */
  upstream4: dgram.Socket;
  upstream6: dgram.Socket | undefined;
}

export interface ResolverConfig {
  /** Upstreams, in order; empty: unknown names get SERVFAIL. */
  upstreams: readonly Upstream[];
  /** False when the container has no gateway (only internal networks): no forwarding. */
  forward: boolean;
}

/** TCP clients at once per container, and how long an idle connection stays open. */
const MAX_TCP_CONNECTIONS = 64;
const TCP_IDLE_MS = 10_000;

export interface ContainerResolverOptions {
  containerId: string;
  sockets: ResolverSockets;
  directory: DnsDirectory;
  config: ResolverConfig;
  log: DnsLog;
  forwarding: Omit<ForwarderDeps, 'log'>;
}

export class ContainerResolver {
  readonly containerId: string;
  private readonly sockets: ResolverSockets;
  private readonly directory: DnsDirectory;
  private readonly log: DnsLog;
  private readonly forwarder: Forwarder;
  private readonly connections = new Set<net.Socket>();
  private config: ResolverConfig;
  private nextConnection = 0;
  private closed = false;

  /** Starts serving `sockets` at once. */
  constructor(opts: ContainerResolverOptions) {
    const { containerId, sockets, log } = opts;
    this.containerId = containerId;
    this.sockets = sockets;
    this.directory = opts.directory;
    this.log = log;
    this.config = opts.config;
    this.forwarder = new Forwarder(sockets.upstream4, sockets.upstream6, { ...opts.forwarding, log });
    this.forwarder.setUpstreams(opts.config.upstreams);
    sockets.udp.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onUdp(msg, rinfo));
    sockets.udp.on('error', (e: Error) => log.debug(`dns ${containerId.slice(0, 12)} udp: ${e.message}`));
    sockets.tcp.on('connection', (s: net.Socket) => this.onConnection(s));
    sockets.tcp.on('error', (e: Error) => log.debug(`dns ${containerId.slice(0, 12)} tcp: ${e.message}`));
  }

  /** Change upstreams or forwarding (a connect/disconnect changed the gateway). */
  configure(config: ResolverConfig): void {
    this.config = config;
    this.forwarder.setUpstreams(config.upstreams);
  }

  /** Stop serving and close every socket. Idempotent; pending queries get no reply. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.forwarder.close();
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    try {
      this.sockets.udp.close();
    } catch {
      // already closed
    }
    this.sockets.tcp.close();
  }

  private onUdp(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const send = (reply: Buffer): void => {
      if (!this.closed) this.sockets.udp.send(reply, rinfo.port, rinfo.address);
    };
    this.handle(msg, 'udp', `${rinfo.address}:${rinfo.port}`, send);
  }

  private onConnection(sock: net.Socket): void {
    if (this.closed || this.connections.size >= MAX_TCP_CONNECTIONS) return void sock.destroy();
    this.connections.add(sock);
    const client = `tcp${this.nextConnection++}`;
    const reader = new TcpFrameReader();
    const send = (reply: Buffer): void => {
      if (!sock.destroyed) sock.write(frameTcp(reply));
    };
    sock.setNoDelay(true);
    sock.setTimeout(TCP_IDLE_MS, () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      for (const msg of reader.push(chunk)) this.handle(msg, 'tcp', client, send);
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => this.connections.delete(sock));
  }

  private handle(msg: Buffer, transport: 'udp' | 'tcp', client: string, send: (reply: Buffer) => void): void {
    let reply: Buffer | undefined;
    try {
      const parsed = parseQuery(msg);
      if (parsed.kind === 'drop') return;
      if (parsed.kind === 'error') return send(parsed.reply);
      reply = this.answer(msg, parsed.query, transport);
      if (reply === undefined) {
        this.forwarder.forward({ raw: msg, query: parsed.query, transport, client, reply: send });
        return;
      }
    } catch (e: unknown) {
      // A bug of ours, not the client's: log it, answer nothing rather than crash the daemon.
      this.log.warn(`dns ${this.containerId.slice(0, 12)}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      return;
    }
    send(reply);
  }

  /** The reply when it comes from us; undefined when the query is to be forwarded. */
  private answer(raw: Buffer, query: Query, transport: 'udp' | 'tcp'): Buffer | undefined {
    const q = query.question;
    const r = q.class === CLASS_IN ? this.directory.resolve(this.containerId, q.name, q.type) : undefined;
    if (r?.kind === 'answer' || r?.kind === 'nodata') {
      const answers = r.kind === 'answer' ? r.answers : [];
      return buildReply(raw, query, { answers, maxSize: maxReplySize(query, transport), truncatable: transport === 'udp' });
    }
    // Docker's rule: no forwarding for a container without a gateway (internal networks only).
    if (!this.config.forward || !this.forwarder.hasUpstreams) return rcodeReply(raw, query, RCODE.SERVFAIL);
    return undefined;
  }
}
