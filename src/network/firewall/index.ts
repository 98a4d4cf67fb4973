/**
 * The firewall of bridge networks: berth's nftables tables kept equal to a FirewallModel.
 * Each change is one nft transaction of element additions/deletions; when one cannot
 * apply (someone flushed the ruleset, an element is already gone), the whole ruleset is
 * rendered again from the model in one transaction, so the kernel always ends up equal
 * to the model.
 */
import { summarizeTable, type NftTableSummary } from '../../kernel/nft.js';
import type { KernelNft } from '../../kernel/port.js';
import { messageOf } from '../../errors.js';
import type { FirewallModel, FwEndpoint, FwNetwork, FwPublication, FwUnderlay } from './model.js';
import { Serial } from '../../util/serial.js';
import * as ruleset from './ruleset.js';
import { renderDataPathGuard } from './data-path.js';

export * from './model.js';
export * from './requirements.js';
export { SETS, type ElementGroup } from './elements.js';
export { renderFull, renderBase, TABLE } from './ruleset.js';

export interface FirewallOptions {
  /** The kernel's nftables (the real one, or a unit test's fake). */
  nft: KernelNft;
  log?: (msg: string) => void;
}

export type Applied = 'incremental' | 'full' | 'none';

/** The current model, read when a change must fall back to a full render (so it includes every change made so far). */
export type ModelSource = () => FirewallModel;

export class Firewall {
  private readonly apply: (script: string) => Promise<void>;
  /** One transaction at a time, so a fallback render never races an incremental change. */
  private readonly serial = new Serial();

  constructor(private readonly opts: FirewallOptions) {
    this.apply = async (script) => opts.nft.apply(script);
  }

  /** Replaces berth's tables with the full ruleset of `model`. At start and reconcile; idempotent. */
  async sync(model: FirewallModel): Promise<void> {
    return this.serial.run(async () => {
      await this.apply(ruleset.renderFull(model));
      // At a start after a reboot the namespace is not there yet: the node makes it again, with another identity, and its guard comes then (changeUnderlay).
      await this.guardDataPath(model.underlay).catch((e: unknown) => this.opts.log?.(`firewall: the data path's guard: ${messageOf(e)}`));
    });
  }

  /**
   * Applies an incremental script (from ruleset.ts); if nft refuses it, renders the whole
   * model `after()` returns (which must already include this change). Throws only if that
   * fails too.
   */
  async change(script: string, after: ModelSource): Promise<Applied> {
    if (script === '') return Promise.resolve('none');
    return this.serial.run(async () => {
      try {
        await this.apply(script);
        return 'incremental';
      } catch (e: unknown) {
        this.opts.log?.(`firewall: incremental change failed (${messageOf(e).split('\n')[0] ?? ''}); restoring the full ruleset`);
        await this.apply(ruleset.renderFull(after()));
        return 'full';
      }
    });
  }

  /** At network creation; the bridge need not exist yet (the sets match interface names). */
  async addNetwork(net: FwNetwork, after: ModelSource): Promise<Applied> {
    return this.change(ruleset.addNetwork(net), after);
  }

  async removeNetwork(net: FwNetwork, after: ModelSource): Promise<Applied> {
    return this.change(ruleset.removeNetwork(net), after);
  }

  /** At endpoint join; a no-op unless the network has ICC off (the first such endpoint brings the bridge table's chains). */
  async addEndpoint(ep: FwEndpoint, net: FwNetwork, after: ModelSource): Promise<Applied> {
    const script = ruleset.addEndpoint(ep, net);
    const first = script !== '' && ruleset.iccOffPorts(after()) === 1;
    return this.change(first ? ruleset.addBridgeChains() + script : script, after);
  }

  /** The last ICC-off endpoint's departure takes the bridge table's chains with it. */
  async removeEndpoint(ep: FwEndpoint, net: FwNetwork, after: ModelSource): Promise<Applied> {
    const script = ruleset.removeEndpoint(ep, net);
    const last = script !== '' && ruleset.iccOffPorts(after()) === 0;
    return this.change(last ? script + ruleset.removeBridgeChains() : script, after);
  }

  /** All publications of one container, in one transaction. */
  async addPublications(pubs: readonly FwPublication[], after: ModelSource): Promise<Applied> {
    return this.change(ruleset.addPublications(pubs), after);
  }

  async removePublications(pubs: readonly FwPublication[], after: ModelSource): Promise<Applied> {
    return this.change(ruleset.removePublications(pubs), after);
  }

  /** The swarm's VXLAN guard changed (nodes came or went, the node joined or left): the elements that differ, or the whole ruleset when its rules change. */
  async changeUnderlay(from: FwUnderlay | undefined, to: FwUnderlay | undefined, after: ModelSource): Promise<Applied> {
    const applied = await this.change(ruleset.changeUnderlay(from, to, after), after);
    if (to?.netns === undefined) return applied;
    await this.serial.run(async () => this.guardDataPath(to));
    return applied;
  }

  /** A data path in a namespace of its own has its guard there, rendered whole (firewall/data-path.ts). */
  private async guardDataPath(u: FwUnderlay | undefined): Promise<void> {
    if (u?.netns !== undefined) await this.opts.nft.applyIn(u.netns.path, renderDataPathGuard(u));
  }

  /** Resolves once every change queued so far has been applied (or has failed). */
  async idle(): Promise<void> {
    return this.serial.run(async () => undefined);
  }

  /** Counts of berth's tables as the kernel has them (undefined: table missing). */
  async inspect(): Promise<{ inet: NftTableSummary | undefined; bridge: NftTableSummary | undefined }> {
    const [inet, bridge] = await Promise.all([this.opts.nft.listTable('inet', ruleset.TABLE), this.opts.nft.listTable('bridge', ruleset.TABLE)]);
    return { inet: inet && summarizeTable(inet), bridge: bridge && summarizeTable(bridge) };
  }

  /** Deletes berth's tables (daemon shutdown with cleanup, tests). Idempotent. */
  async remove(): Promise<void> {
    return this.serial.run(async () => removeFirewallTables(this.opts.nft));
  }
}

/** Deletes berth's tables, if any. Idempotent. */
export async function removeFirewallTables(nft: KernelNft): Promise<void> {
  await nft.deleteTable('inet', ruleset.TABLE);
  await nft.deleteTable('bridge', ruleset.TABLE);
}
