/**
 * Clocks of a swarm's nodes, compared as NTP does: ask a node its time over the node
 * endpoint and take the middle of the round trip as the moment it answered. The connection
 * is made once first, so the TLS handshake does not count; the fastest of a few rounds
 * wins, its half round trip bounding the error.
 */
import * as https from 'node:https';
import { messageOf } from '../errors.js';
import type { EtcdStore } from '../store/etcd.js';
import { askNode, NODE_PORT, replyJson, type NodeRoute, type NodeTls } from './node-endpoint.js';
import { ALIVE, NODES } from './stored.js';

const ROUNDS = 4;
const TIMEOUT_MS = 3000;

/** How far a node's clock is from this one's: positive when it is ahead. */
export interface ClockOffset {
  offsetMs: number;
  /** The error bound: half the fastest round trip. */
  errorMs: number;
}

/** The node endpoint's route that tells this node's time to any node of the swarm. */
export function clockRoute(now: () => number = Date.now): NodeRoute {
  return {
    path: /^\/clock$/,
    allow: 'member',
    handle: async (_req, res) => replyJson(res, 200, { unixMs: now() }),
  };
}

/** The offset of the clock of the node at `addr` from this node's. */
export async function probeClock(addr: string, port: number, tls: NodeTls, now: () => number = Date.now): Promise<ClockOffset> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const ask = async (): Promise<{ sent: number; told: number; back: number }> => {
      const sent = now();
      const res = await askNode(addr, port, '/clock', tls, { timeoutMs: TIMEOUT_MS, agent });
      let body = '';
      for await (const b of res) body += (b as Buffer).toString();
      const back = now();
      return { sent, told: (JSON.parse(body) as { unixMs: number }).unixMs, back };
    };
    await ask();
    let best: ClockOffset | undefined;
    for (let i = 0; i < ROUNDS; i++) {
      const r = await ask();
      const errorMs = (r.back - r.sent) / 2;
      if (!best || errorMs < best.errorMs) best = { offsetMs: r.told - (r.sent + errorMs), errorMs };
    }
    return best!;
  } finally {
    agent.destroy();
  }
}

/** What a node's clock was found to be, seen from this one. */
export type NodeClock = { hostname: string } & ({ offset: ClockOffset } | { error: string });

/** The clocks of every other live node of the swarm (its lease held), asked at once. */
export async function swarmClocks(store: EtcdStore, selfId: string, tls: NodeTls, port = NODE_PORT): Promise<NodeClock[]> {
  const [nodes, alive] = await Promise.all([NODES.load(store), store.listVersioned(ALIVE.kind.prefix)]);
  const others = [...nodes.values()].filter((n) => n.id !== selfId && alive.has(ALIVE.kind.prefix + n.id));
  return Promise.all(
    others.map(async (n): Promise<NodeClock> => {
      const hostname = n.description.hostname;
      try {
        return { hostname, offset: await probeClock(n.addr, port, tls) };
      } catch (e: unknown) {
        return { hostname, error: messageOf(e) };
      }
    }),
  );
}
