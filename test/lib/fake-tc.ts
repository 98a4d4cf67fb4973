/**
 * The fake kernel's traffic control: clsact qdiscs and u32 filters per link side, read
 * from the `tc` commands berth sends (overlay/direct-path.ts), answering as tc does when a
 * qdisc or filter is already there or missing. A filter's mirred target reads `*` (dev
 * undefined) once that link is gone, as the kernel's does (it holds the link, not its name).
 */
import { KernelCommandError } from '../../src/kernel/exec.js';
import type { TcSide, U32Filter, U32Match } from '../../src/kernel/tc.js';
import { u32Prefix } from '../../src/network/drivers/overlay/direct-path.js';

const fail = (stderr: string): KernelCommandError => new KernelCommandError(['tc'], stderr, 2);
const after = (t: readonly string[], word: string): string | undefined => {
  const i = t.indexOf(word);
  return i >= 0 ? t[i + 1] : undefined;
};

export class FakeTc {
  /** Links with a clsact qdisc. */
  readonly qdiscs = new Set<string>();
  /** "dev side" -> its filters, in the order made. */
  readonly filters = new Map<string, U32Filter[]>();
  private picked = 0;

  /** One `tc` command; `hasLink` says whether a link exists. */
  command(command: string, hasLink: (name: string) => boolean): void {
    const t = command.trim().split(/\s+/);
    const [object, verb] = t;
    const dev = after(t, 'dev') ?? '';
    if (!hasLink(dev)) throw fail(`Cannot find device "${dev}"`);
    if (object === 'qdisc') {
      if (verb === 'del') {
        if (!this.qdiscs.delete(dev)) throw fail('Error: Invalid qdisc name: must match existing qdisc.');
        for (const side of ['ingress', 'egress']) this.filters.delete(`${dev} ${side}`);
      } else if (verb === 'add' && this.qdiscs.has(dev)) throw fail('Error: Exclusivity flag on, cannot modify.');
      else this.qdiscs.add(dev);
      return;
    }
    const side = t[t.indexOf('dev') + 2] as TcSide;
    if (!this.qdiscs.has(dev)) throw fail('Error: Cannot find specified qdisc on specified device.');
    const key = `${dev} ${side}`;
    const list = this.filters.get(key) ?? [];
    const prio = Number(after(t, 'prio'));
    const handle = after(t, 'handle');
    const inPrio = list.filter((f) => f.prio === prio);
    if (verb === 'del') {
      // Without a handle: the whole priority.
      if (handle === undefined && inPrio.length === 0) throw fail('Error: Filter with specified priority/protocol not found.');
      const left = list.filter((f) => f.prio !== prio || (handle !== undefined && f.handle !== handle));
      if (handle !== undefined && left.length === list.length) throw fail('Error: Specified filter handle not found.');
      this.filters.set(key, left);
      return;
    }
    const table = after(t, 'ht');
    if (table !== undefined && !table.startsWith('800:') && !inPrio.some((f) => f.handle === `${table.split(':')[0]}:`)) throw fail('Error: cls_u32: Specified hash table not found.');
    const matches: U32Match[] = [];
    t.forEach((w, i) => {
      if (w === 'match' && t[i + 1] === 'ip') matches.push(u32Prefix(t[i + 3]!, t[i + 2] === 'src' ? 12 : 16));
    });
    const target = after(t, 'mirred');
    const to = target ? after(t.slice(t.indexOf('mirred')), 'dev')! : undefined;
    if (to !== undefined && !hasLink(to)) throw fail(`Cannot find device "${to}"`);
    const filter: U32Filter = {
      prio,
      kind: 'u32',
      handle: handle ?? `800:0:${(0x800 + this.picked++).toString(16)}`,
      matches,
      ...(target ? { redirect: { side: target as TcSide, dev: to } } : {}),
    };
    const at = list.findIndex((f) => f.prio === prio && f.handle === filter.handle);
    if (at >= 0 && verb === 'add') throw fail('Error: cls_u32: Key node id cannot be zero.');
    // A priority's first u32 filter brings its root table, which lists as a filter of its own.
    if (inPrio.length === 0) list.push({ prio, kind: 'u32', handle: '800:', matches: [] });
    if (at >= 0) list[at] = filter;
    else list.push(filter);
    this.filters.set(key, list);
  }

  /** The filters of a link side. */
  list(dev: string, side: TcSide): U32Filter[] {
    return [...(this.filters.get(`${dev} ${side}`) ?? [])];
  }

  /** A link deleted: its qdisc and filters with it; a redirect to it reads `*` from now on, even once a link of its name is made again. */
  linkGone(name: string): void {
    this.qdiscs.delete(name);
    for (const side of ['ingress', 'egress']) this.filters.delete(`${name} ${side}`);
    for (const list of this.filters.values()) {
      for (const [i, f] of list.entries()) if (f.redirect?.dev === name) list[i] = { ...f, redirect: { side: f.redirect.side, dev: undefined } };
    }
  }
}
