/**
 * IPsec between this host and the others that share an encrypted overlay network with
 * it: one plan per remote host (xfrm-plan.ts), programmed when the first encrypted
 * network needs that host and removed with the last, through the kernel port, and the
 * block policy behind them while any is programmed. Shared by all of the driver's
 * networks, since the associations are per pair of hosts, not per network (as in Docker).
 */
import type { KernelXfrm } from '../../../kernel/port.js';
import type { XfrmPolicy } from '../../../kernel/xfrm.js';
import type { SwarmPlace } from '../../shared.js';
import { blockPolicy, pairPlan, type PairPlan } from './xfrm-plan.js';

export class OverlayEncryption {
  /** Remote host -> the plan programmed for it and how many encrypted networks need it. */
  private readonly hosts = new Map<string, { plan: PairPlan; users: number }>();
  private block: XfrmPolicy | undefined;

  constructor(private readonly xfrm: KernelXfrm) {}

  /** An encrypted network reaches `remote`: its plan is programmed if it is the first. */
  async addHost(remote: string, place: SwarmPlace): Promise<void> {
    const known = this.hosts.get(remote);
    if (known) {
      known.users++;
      return;
    }
    const plan = pairPlan({ local: place.addr, remote, keys: place.networkKeys, port: place.dataPathPort });
    const block = this.block ?? blockPolicy(place.addr, place.dataPathPort);
    await this.xfrm.add(plan.states, this.block ? plan.policies : [block, ...plan.policies]);
    this.block = block;
    this.hosts.set(remote, { plan, users: 1 });
  }

  /** An encrypted network no longer reaches `remote`: with the last one, its plan goes. Idempotent. */
  async removeHost(remote: string): Promise<void> {
    const known = this.hosts.get(remote);
    if (!known) return;
    if (--known.users > 0) return;
    this.hosts.delete(remote);
    const block = this.hosts.size === 0 && this.block ? [this.block] : [];
    await this.xfrm.delete(known.plan.states, [...known.plan.policies, ...block]);
    if (block.length > 0) this.block = undefined;
  }
}
