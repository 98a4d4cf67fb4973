/**
 * Parent links of macvlan and ipvlan networks.
 *
 * A network's parent is one of three things:
 * - a host interface the user names (`-o parent=eth0`): used as it is, never deleted;
 * - a dotted name that does not exist yet (`-o parent=eth0.100`): berth creates the
 *   802.1Q sub-interface (VLAN 100 on eth0) and deletes it when its last network goes;
 * - nothing: a dummy-like link of the network's own (`dm-`/`di-` + 12 hex digits of the
 *   network ID), so that its containers reach only each other (Docker's behaviour).
 * Links berth creates carry the ifalias "berth": ownership survives restarts, and a
 * user's link of the same name is never taken for berth's.
 */
import { conflict, invalid } from '../../../errors.js';
import { kernelLacks, type KernelFeatures } from '../../../kernel/features.js';
import { OWNER_ALIAS, type LinkInfo } from '../../../kernel/links.js';
import type { KernelLinks } from '../../../kernel/port.js';
import type { NetworkRecord } from '../../model.js';
import type { DriverContext } from '../driver.js';
import { parseIfNameOption } from '../options.js';

export type SublinkDriver = 'macvlan' | 'ipvlan';

export interface ParentRef {
  name: string;
  /** The network's own dummy-like link (no -o parent): created with it, deleted with it. */
  own: boolean;
}

/** Docker's prefixes of the links made for networks without a parent. */
const OWN_PREFIX: Record<SublinkDriver, string> = { macvlan: 'dm-', ipvlan: 'di-' };

/** `-o parent` validated; none (or empty) means the network's own link. Pure. */
export function parseParent(net: NetworkRecord, driver: SublinkDriver): ParentRef {
  const given = net.options['parent'];
  if (given === undefined || given === '') return { name: OWN_PREFIX[driver] + net.id.slice(0, 12), own: true };
  if (given === 'lo') throw invalid(`loopback interface is not a valid ${driver} parent link`);
  return { name: parseIfNameOption('parent', given), own: false };
}

/** `eth0.100` → eth0 and 100, with Docker's messages (moby `parseVlan`). */
export function parseVlanName(name: string): { base: string; id: number } {
  const parts = name.split('.');
  if (parts.length !== 2 || parts[0] === '') {
    throw invalid(`required interface name format is: name.vlan_id, ex. eth0.10 for vlan 10, instead received ${name}`);
  }
  const [base, vid] = parts as [string, string];
  if (!/^\d+$/.test(vid)) throw invalid(`unable to parse a valid vlan id from: ${vid} (ex. eth0.10 for vlan 10)`);
  const id = Number(vid);
  if (id < 1 || id > 4094) throw invalid(`vlan id must be between 1-4094, received: ${id}`);
  return { base, id };
}

/** What the kernel has now: the parent by name and, for a dotted name, the link before the dot. */
export interface ParentState {
  link: LinkInfo | undefined;
  base: LinkInfo | undefined;
}

/**
 * The iproute2 commands that make the parent usable, or none; throws when it cannot
 * be (missing interface, missing kernel feature) before anything is changed. Pure.
 */
export function planParent(ref: ParentRef, state: ParentState, features: KernelFeatures, driver: SublinkDriver): string[] {
  const mark = [`link set dev ${ref.name} alias ${OWNER_ALIAS}`, `link set dev ${ref.name} up`];
  if (ref.own) {
    if (state.link) return state.link.up ? [] : [`link set dev ${ref.name} up`];
    // No dummy in the kernel: ifb also swallows what it is sent, and carries macvlan/ipvlan links the same way.
    const kind = features.dummy !== false ? 'dummy' : features.ifb !== false ? 'ifb' : undefined;
    if (!kind) {
      throw kernelLacks('dummy', `cannot create ${ref.name}, the parent of a ${driver} network without -o parent (give -o parent=IFACE)`);
    }
    return [`link add name ${ref.name} type ${kind}`, ...mark];
  }
  if (state.link) return [];
  if (!ref.name.includes('.')) throw invalid(`the requested parent interface ${ref.name} was not found on the Docker host`);
  const vlan = parseVlanName(ref.name);
  if (!state.base) {
    throw invalid(`the requested parent interface ${vlan.base} was not found on the Docker host: cannot create ${ref.name}`);
  }
  if (features.vlan === false) throw kernelLacks('vlan', `cannot create ${ref.name}`);
  return [`link add link ${vlan.base} name ${ref.name} type vlan id ${vlan.id}`, ...mark];
}

/** Make the parent exist and be up (create, and reconcile after a restart). Idempotent. */
export async function ensureParent(links: KernelLinks, ref: ParentRef, driver: SublinkDriver, features: KernelFeatures): Promise<void> {
  const all = await links.list();
  const find = (name: string): LinkInfo | undefined => all.find((l) => l.name === name);
  const dot = ref.name.indexOf('.');
  const state = { link: find(ref.name), base: dot > 0 ? find(ref.name.slice(0, dot)) : undefined };
  const cmds = planParent(ref, state, features, driver);
  if (cmds.length > 0) await links.batch(cmds);
}

/**
 * Undo ensureParent for a network that goes away: its own link is deleted; a VLAN
 * sub-interface only when berth made it and no other network uses it; a user's link
 * never. Idempotent.
 */
export async function releaseParent(links: KernelLinks, ref: ParentRef, usedByOthers: boolean): Promise<void> {
  if (ref.own) return links.delete(ref.name);
  if (usedByOthers) return;
  const link = await links.get(ref.name);
  if (link?.ownedByBerth && link.kind === 'vlan') await links.delete(ref.name);
}

/** After a crash: delete the links berth made for networks that no longer exist. */
export async function removeOrphanParents(links: KernelLinks, driver: SublinkDriver, wanted: ReadonlySet<string>): Promise<void> {
  const ownKinds = new Set(['dummy', 'ifb']);
  const orphans = (await links.list()).filter(
    (l) =>
      l.ownedByBerth &&
      !wanted.has(l.name) &&
      (l.kind === 'vlan' || (l.name.startsWith(OWN_PREFIX[driver]) && ownKinds.has(l.kind ?? ''))),
  );
  await Promise.all(orphans.map((l) => links.delete(l.name)));
}

/** One network's claim on a parent link. */
export interface ParentUse {
  networkId: string;
  networkName: string;
  driver: SublinkDriver;
  parent: string;
  /** macvlan passthru: the parent's only user. */
  passthru: boolean;
}

/**
 * The macvlan and ipvlan networks of one daemon by parent. Both drivers must see the
 * same registry (a VLAN link may serve either), so there is one per DriverContext.
 * A network is added when validated and removed when its driver removes it.
 */
export class ParentUsers {
  private readonly byNetwork = new Map<string, ParentUse>();

  add(use: ParentUse): void {
    this.byNetwork.set(use.networkId, use);
  }

  delete(networkId: string): void {
    this.byNetwork.delete(networkId);
  }

  /** The other networks on the same parent. */
  othersOn(use: ParentUse): ParentUse[] {
    return [...this.byNetwork.values()].filter((u) => u.parent === use.parent && u.networkId !== use.networkId);
  }

  /** Every parent in use, for orphan detection. */
  parents(): Set<string> {
    return new Set([...this.byNetwork.values()].map((u) => u.parent));
  }
}

const REGISTRIES = new WeakMap<DriverContext, ParentUsers>();

export function parentUsersOf(ctx: DriverContext): ParentUsers {
  let users = REGISTRIES.get(ctx);
  if (!users) {
    users = new ParentUsers();
    REGISTRIES.set(ctx, users);
  }
  return users;
}

/**
 * Whether a network may share its parent with the others already on it. A parent
 * carries macvlan or ipvlan links, not both (the kernel allows one receive handler per
 * device); ipvlan's mode belongs to the parent, so one ipvlan network per parent, as in
 * Docker; a macvlan passthru link must be its parent's only one. Pure.
 */
export function checkParentShare(me: ParentUse, others: readonly ParentUse[]): void {
  for (const o of others) {
    if (o.driver !== me.driver) {
      throw conflict(
        `parent interface ${me.parent} is already used by ${o.driver} network ${o.networkName}: a parent carries macvlan or ipvlan networks, not both`,
      );
    }
    if (me.driver === 'ipvlan') throw conflict(`ipvlan network ${o.networkName} is already using parent interface ${me.parent}`);
    if (me.passthru) throw conflict(`cannot use mode passthru, macvlan network ${o.networkName} is already using parent interface ${me.parent}`);
    if (o.passthru) throw conflict(`macvlan network ${o.networkName} is already using parent interface ${me.parent} in mode passthru`);
  }
}
