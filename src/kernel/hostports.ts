/**
 * Holding host ports: a published port is bound by the daemon (in its own network
 * namespace) for as long as it is published, as Docker does, so that no host process
 * can take it and a port a host process already has is refused up front. The sockets
 * carry no traffic: nftables rewrites connections to published ports before they reach
 * a local socket, except where the kernel cannot (network/ports/serving.ts): those
 * sockets relay to the container (port-relay.ts). TCP sockets listen (a bound-only socket
 * does not stop another SO_REUSEADDR socket from binding); on a socket that does not
 * relay, connections that slip through, e.g. while the ruleset is being restored, are
 * closed at once.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { BerthError } from '../errors.js';
import { relayTcp, relayUdp, type Relay, type RelayTarget } from './port-relay.js';

export interface HostSocketSpec {
  proto: 'tcp' | 'udp';
  /** '0.0.0.0', '::' (bound IPv6-only) or one address. */
  address: string;
  port: number;
  /** Connections and datagrams reaching this socket are relayed to this container address. */
  forward?: RelayTarget;
}

/** A bind that failed; `code` is the errno name (EADDRINUSE, EADDRNOTAVAIL, EACCES …). */
export class HostPortError extends BerthError {
  constructor(
    readonly spec: HostSocketSpec,
    readonly code: string,
  ) {
    // A port someone has is a conflict; running out of descriptors is the daemon's own limit.
    super(code === 'EMFILE' || code === 'ENFILE' ? 'System' : 'Conflict', `${spec.proto} ${spec.address}:${spec.port}: ${errnoText(code)}`);
  }
}

/** Go's wording of the errno, which Docker's messages carry. */
export function errnoText(code: string): string {
  switch (code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EADDRNOTAVAIL':
      return 'cannot assign requested address';
    case 'EACCES':
      return 'permission denied';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files';
    default:
      return code.toLowerCase();
  }
}

/** Sockets held together; `close()` is idempotent. */
export interface HeldSockets {
  readonly count: number;
  close(): Promise<void>;
}

type Closable = { close(cb: () => void): unknown };

async function closeOne(s: Closable): Promise<void> {
  return new Promise((resolve) => {
    try {
      s.close(() => resolve());
    } catch {
      resolve(); // already closed
    }
  });
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EINVAL';
}

/** A held socket and, if it relays, its relay: closing ends the relayed flows first. */
function withRelay(socket: Closable, relay: Relay | undefined): Closable {
  if (!relay) return socket;
  return {
    close(cb) {
      relay.close();
      return socket.close(cb);
    },
  };
}

async function holdTcp(spec: HostSocketSpec): Promise<Closable> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ allowHalfOpen: spec.forward !== undefined });
    const relay = spec.forward ? relayTcp(server, spec.forward) : undefined;
    if (!relay) server.on('connection', (conn) => conn.destroy());
    server.once('error', (e: unknown) => reject(new HostPortError(spec, codeOf(e))));
    // A socket that only holds the port needs no queue; a relay takes Node's default.
    const backlog = relay ? 511 : 1;
    server.listen({ host: spec.address, port: spec.port, exclusive: true, backlog, ipv6Only: spec.address.includes(':') }, () => {
      server.removeAllListeners('error');
      server.on('error', () => undefined);
      server.unref();
      resolve(withRelay(server, relay));
    });
  });
}

async function holdUdp(spec: HostSocketSpec): Promise<Closable> {
  return new Promise((resolve, reject) => {
    const v6 = spec.address.includes(':');
    const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, reuseAddr: false });
    socket.once('error', (e: unknown) => {
      socket.close();
      reject(new HostPortError(spec, codeOf(e)));
    });
    socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
      socket.removeAllListeners('error');
      socket.on('error', () => undefined);
      const relay = spec.forward ? relayUdp(socket, spec.forward) : undefined;
      if (!relay) socket.on('message', () => undefined);
      socket.unref();
      resolve(withRelay(socket, relay));
    });
  });
}

/**
 * Binds every socket, in parallel, all or nothing: on the first failure the sockets
 * already bound are closed and the HostPortError of the earliest failing spec (in the
 * given order) is thrown.
 */
export async function holdHostPorts(specs: readonly HostSocketSpec[]): Promise<HeldSockets> {
  const results = await Promise.allSettled(specs.map((s) => (s.proto === 'tcp' ? holdTcp(s) : holdUdp(s))));
  const held = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(held.map(closeOne));
    throw failed.reason;
  }
  let open = true;
  return {
    count: held.length,
    async close() {
      if (!open) return;
      open = false;
      await Promise.all(held.map(closeOne));
    },
  };
}
