/**
 * The helper of nssocket.ts, run as `nsenter --net=<ns> node nssocket-child.js` with an
 * IPC channel: opens the sockets asked for inside that namespace and passes each one
 * back over the channel, then closes its own copy. Exits when the channel closes (and is
 * killed by its parent-death signal when the daemon dies). Its argument, the namespace
 * path, is only there to show in `ps`.
 * Kept tiny: its start-up time is the cost of entering a namespace.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { AgentReply, AgentRequest, SocketSpec } from './nssocket.js';

type Handle = dgram.Socket | net.Server | net.Socket;

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function open(spec: SocketSpec): Promise<Handle> {
  return new Promise((resolve, reject) => {
    if (spec.kind !== 'tcp-listen' && spec.kind !== 'tcp-connect') {
      const s = dgram.createSocket({ type: spec.kind, ipv6Only: spec.kind === 'udp6' });
      s.once('error', reject);
      s.bind({ address: spec.address, port: spec.port, exclusive: true }, () => resolve(s));
    } else if (spec.kind === 'tcp-listen') {
      const s = net.createServer();
      s.once('error', reject);
      s.listen({ host: spec.address, port: spec.port, backlog: spec.backlog ?? 511, exclusive: true }, () => resolve(s));
    } else {
      const s = net.connect({ host: spec.address, port: spec.port });
      s.setTimeout(spec.timeoutMs ?? 5000, () => s.destroy(new Error('connect timed out')));
      s.once('error', reject);
      s.once('connect', () => {
        s.setTimeout(0);
        s.pause();
        resolve(s);
      });
    }
  });
}

async function reply(msg: AgentReply, handle?: Handle): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    // A send that fails means the daemon is gone: nothing we hold is of use any more.
    process.send(msg, handle, {}, (e: Error | null) => (e ? process.exit(0) : resolve()));
  });
}

async function serve(req: AgentRequest): Promise<void> {
  for (let index = 0; index < req.specs.length; index++) {
    const spec = req.specs[index]!;
    const optional = 'optional' in spec && spec.optional === true;
    let handle: Handle;
    try {
      handle = await open(spec);
    } catch (e: unknown) {
      await reply({ kind: optional ? 'absent' : 'error', id: req.id, index, message: errorText(e) });
      if (!optional) return;
      continue;
    }
    await reply({ kind: 'handle', id: req.id, index }, handle);
    // The daemon holds its own descriptor now (a sent net.Socket is closed by Node).
    if (handle instanceof dgram.Socket) handle.close();
    else if (handle instanceof net.Server) handle.close();
  }
}

let queue = Promise.resolve();
process.on('message', (m: unknown) => {
  const req = m as AgentRequest;
  if (req?.op !== 'open' || !Array.isArray(req.specs)) return;
  queue = queue.then(() => serve(req)).catch(() => undefined);
});
process.on('disconnect', () => process.exit(0));
