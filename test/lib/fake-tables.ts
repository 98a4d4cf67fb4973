/**
 * The fake kernel's forwarding, neighbour and IPsec tables (the daemon namespace's): the
 * `bridge fdb` and `ip neigh` commands the overlay driver sends, as the kernel keeps
 * them (a duplicate append is one entry, a deletion of what is missing fails), and the
 * XFRM associations and policies.
 */
import { KernelCommandError } from '../../src/kernel/exec.js';
import type { FdbEntry, NeighbourEntry } from '../../src/kernel/fdb.js';
import type { XfrmPolicy, XfrmState } from '../../src/kernel/xfrm.js';

const after = (t: readonly string[], word: string): string | undefined => {
  const i = t.indexOf(word);
  return i >= 0 ? t[i + 1] : undefined;
};
const gone = (): KernelCommandError => new KernelCommandError(['bridge'], 'RTNETLINK answers: No such file or directory', 2);

export class FakeTables {
  /** Link -> its own (`self`) FDB entries. */
  readonly fdb = new Map<string, FdbEntry[]>();
  /** Link -> its neighbour entries. */
  readonly neigh = new Map<string, NeighbourEntry[]>();
  readonly states = new Map<string, XfrmState>();
  readonly policies = new Map<string, XfrmPolicy>();

  /** `fdb append|replace|del MAC dev D dst X self [permanent]`. */
  bridge(command: string): void {
    const t = command.trim().split(/\s+/);
    const [object, verb, mac] = t;
    if (object !== 'fdb' || !mac) return;
    const dev = after(t, 'dev')!;
    const dst = after(t, 'dst');
    const entries = this.fdb.get(dev) ?? [];
    const same = (e: FdbEntry): boolean => e.mac === mac.toLowerCase() && e.dst === dst;
    if (verb === 'del') {
      if (!entries.some(same)) throw gone();
      this.fdb.set(dev, entries.filter((e) => !same(e)));
      return;
    }
    const kept = verb === 'replace' ? entries.filter((e) => e.mac !== mac.toLowerCase()) : entries.filter((e) => !same(e));
    this.fdb.set(dev, [...kept, { mac: mac.toLowerCase(), dst, permanent: t.includes('permanent') }]);
  }

  /** `neigh replace IP lladdr MAC dev D nud permanent`, `neigh del IP dev D`; false when it is no neigh command. */
  ip(t: readonly string[]): boolean {
    if (t[0] !== 'neigh') return false;
    const ip = t[2]!;
    const dev = after(t, 'dev')!;
    const entries = (this.neigh.get(dev) ?? []).filter((e) => e.ip !== ip);
    if (t[1] === 'del') {
      if (entries.length === (this.neigh.get(dev) ?? []).length) throw gone();
    } else {
      entries.push({ ip, mac: after(t, 'lladdr')!.toLowerCase(), permanent: after(t, 'nud') === 'permanent' });
    }
    this.neigh.set(dev, entries);
    return true;
  }

  /** A link deleted: its tables go with it. */
  linkGone(name: string): void {
    this.fdb.delete(name);
    this.neigh.delete(name);
  }

  addXfrm(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): void {
    for (const s of states) if (!this.states.has(stateKey(s))) this.states.set(stateKey(s), s);
    for (const p of policies) this.policies.set(policyKey(p), p);
  }

  deleteXfrm(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): void {
    for (const p of policies) this.policies.delete(policyKey(p));
    for (const s of states) this.states.delete(stateKey(s));
  }
}

const stateKey = (s: XfrmState): string => `${s.src} ${s.dst} ${s.spi}`;
const policyKey = (p: XfrmPolicy): string => `${p.src} ${p.dst} ${p.dport} ${p.mark}`;
