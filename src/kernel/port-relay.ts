/**
 * The relay in the daemon (berth's docker-proxy): what reaches a socket that holds a
 * published host port is carried to the container and back. It serves only what the
 * kernel's DNAT cannot (network/ports/serving.ts says what). TCP and UDP: Node has no
 * SCTP sockets. The container sees the bridge's gateway as the client, as with docker-proxy.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export interface RelayTarget {
  address: string;
  port: number;
}

/** A relay attached to one listening socket; `close()` ends every flow it carries (idempotent). */
export interface Relay {
  close(): void;
}

/**
 * Relays each TCP connection the server accepts; both directions end independently
 * (the server and the upstream allow half-open), so a client that shuts down its
 * sending side still gets the reply.
 */
export function relayTcp(server: net.Server, to: RelayTarget): Relay {
  const open = new Set<net.Socket>();
  server.on('connection', (conn) => {
    const upstream = net.connect({ host: to.address, port: to.port, allowHalfOpen: true });
    open.add(conn).add(upstream);
    const end = (): void => {
      conn.destroy();
      upstream.destroy();
      open.delete(conn);
      open.delete(upstream);
    };
    for (const s of [conn, upstream]) s.on('error', end).on('close', end);
    conn.pipe(upstream).pipe(conn);
  });
  return {
    close() {
      for (const s of open) s.destroy();
      open.clear();
    },
  };
}

/** docker-proxy's idle time for a UDP flow: a client silent this long is forgotten. */
const UDP_FLOW_IDLE_MS = 90_000;
/** Each flow costs a descriptor; datagrams from further clients are dropped until one expires. */
const UDP_MAX_FLOWS = 1024;

interface UdpFlow {
  upstream: dgram.Socket;
  idle: NodeJS.Timeout;
}

/**
 * Relays UDP per client address: each client gets its own upstream socket, so the
 * container's replies can be told apart and sent back from the listening socket.
 */
export function relayUdp(listener: dgram.Socket, to: RelayTarget): Relay {
  const flows = new Map<string, UdpFlow>();
  const forget = (key: string): void => {
    const flow = flows.get(key);
    if (!flow) return;
    flows.delete(key);
    clearTimeout(flow.idle);
    flow.upstream.close();
  };
  const open = (client: dgram.RemoteInfo, key: string): UdpFlow => {
    const upstream = dgram.createSocket(to.address.includes(':') ? 'udp6' : 'udp4');
    upstream.on('error', () => forget(key));
    upstream.on('message', (reply, from) => {
      if (from.address !== to.address || from.port !== to.port) return;
      flows.get(key)?.idle.refresh();
      listener.send(reply, client.port, client.address);
    });
    const idle = setTimeout(() => forget(key), UDP_FLOW_IDLE_MS).unref();
    return { upstream, idle };
  };
  listener.on('message', (datagram, client) => {
    const key = `${client.address} ${client.port}`;
    let flow = flows.get(key);
    if (!flow) {
      if (flows.size >= UDP_MAX_FLOWS) return;
      flow = open(client, key);
      flows.set(key, flow);
    }
    flow.idle.refresh();
    flow.upstream.send(datagram, to.port, to.address);
  });
  return {
    close() {
      for (const key of [...flows.keys()]) forget(key);
    },
  };
}
