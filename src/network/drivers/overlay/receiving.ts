/**
 * The underlay link's receiving filters (direct-path.ts), shared by every directly routed
 * network of the host, so changed by one network at a time: a network's removal must not
 * take the clsact qdisc away while another's filter is being added to it. Deletions run
 * each whatever became of the others (two networks may find the same dead filter).
 */
import { messageOf } from '../../../errors.js';
import { kernelSays } from '../../../kernel/exec.js';
import type { U32Filter } from '../../../kernel/tc.js';
import { Serial } from '../../../util/serial.js';
import type { DriverContext } from '../driver.js';
import { tidyUnderlay, type DirectPath } from './direct-path.js';

export class ReceivingFilters {
  private readonly serial = new Serial();

  constructor(private readonly ctx: DriverContext) {}

  /** The network's receiving filters on `underlay`, and its clsact qdisc (perhaps someone else's already). */
  async ensure(direct: DirectPath, underlay: string): Promise<void> {
    const { tc } = this.ctx.kernel;
    await this.serial.run(async () => {
      await tc.batch([`qdisc add dev ${underlay} clsact`]).catch((e: unknown) => {
        if (!kernelSays(e, 'exists')) throw e;
      });
      const { dead, add } = direct.receive(underlay, await tc.filters(underlay, 'ingress'));
      await this.each(underlay, dead);
      await tc.batch(add);
    });
  }

  /** Delete the filters `doomed` picks from what `underlay` has, then what is left of berth's there when none of its filters is. */
  async drop(underlay: string, doomed: (have: readonly U32Filter[]) => string[]): Promise<void> {
    const { tc } = this.ctx.kernel;
    await this.serial.run(async () => {
      const cmds = doomed(await tc.filters(underlay, 'ingress').catch(() => []));
      if (cmds.length === 0) return;
      await this.each(underlay, cmds);
      const [ingress, egress] = await Promise.all([tc.filters(underlay, 'ingress'), tc.filters(underlay, 'egress')]);
      await this.each(underlay, tidyUnderlay(underlay, ingress, egress));
    });
  }

  private async each(underlay: string, cmds: readonly string[]): Promise<void> {
    await this.ctx.kernel.tc.batch(cmds, true).catch((e: unknown) => {
      if (!kernelSays(e, 'missing')) this.ctx.log(`direct routing: ${underlay}: ${messageOf(e)}`);
    });
  }
}
