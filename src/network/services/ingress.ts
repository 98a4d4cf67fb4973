/**
 * The routing mesh on this node: berth's ingress table (ingress-rules.ts) kept equal to
 * the derived model, whole the first time (after a start: nothing left over), by its
 * changes after; and every published port held on the node (a socket per port and
 * protocol), so no local process can take one.
 */
import { messageOf } from '../../errors.js';
import type { HeldSockets } from '../../kernel/hostports.js';
import type { Kernel } from '../../kernel/port.js';
import { ingressChangesScript, ingressTableScript, type IngressModel } from './ingress-rules.js';

export class IngressMesh {
  private applied: IngressModel | undefined;
  /** "proto/port" -> its sockets. */
  private readonly held = new Map<string, HeldSockets>();

  constructor(private readonly deps: { kernel: Pick<Kernel, 'nft' | 'holdHostPorts' | 'conntrack'>; log(msg: string): void }) {}

  /** Make the node's mesh `m`. Never throws: a failure is logged and the next change replaces the table whole. */
  async apply(m: IngressModel): Promise<void> {
    await this.hold(m);
    const script = this.applied === undefined ? ingressTableScript(m) : ingressChangesScript(this.applied, m);
    const before = this.applied;
    try {
      if (script !== '') await this.deps.kernel.nft.apply(script);
      this.applied = m;
    } catch (e: unknown) {
      this.applied = undefined;
      this.deps.log(`ingress routing mesh: ${messageOf(e)}`);
      return;
    }
    // A removed task's UDP flows through the mesh go with it: the client's next datagram is balanced again.
    const gone = udpBackends(before).filter((ip) => !udpBackends(m).includes(ip));
    if (gone.length > 0) await this.deps.kernel.conntrack.forget(undefined, 'udp', gone).catch((e: unknown) => this.deps.log(`ingress routing mesh: forgetting flows: ${messageOf(e)}`));
  }

  /** The mesh goes from this node (it left the swarm, or stops): its table and held ports. */
  async clear(): Promise<void> {
    if (this.applied !== undefined || this.held.size > 0) await this.apply({ ports: [], local: undefined, remote: [] });
  }

  private async hold(m: IngressModel): Promise<void> {
    const wanted = new Set(m.ports.map((p) => `${p.proto}/${p.port}`));
    for (const [key, sockets] of this.held) {
      if (wanted.has(key)) continue;
      this.held.delete(key);
      await sockets.close().catch(() => undefined);
    }
    for (const p of m.ports) {
      const key = `${p.proto}/${p.port}`;
      if (this.held.has(key)) continue;
      try {
        this.held.set(key, await this.deps.kernel.holdHostPorts([{ proto: p.proto, address: '0.0.0.0', port: p.port }]));
      } catch (e: unknown) {
        this.deps.log(`ingress routing mesh: holding ${key} on this node: ${messageOf(e)}`);
      }
    }
  }
}

function udpBackends(m: IngressModel | undefined): string[] {
  return [...new Set((m?.ports ?? []).filter((p) => p.proto === 'udp').flatMap((p) => p.backends.map((b) => b.ip)))];
}
