/**
 * Links and addresses of the daemon's own network namespace, through iproute2.
 * Objects berth creates carry the ifalias "berth" so that reconcile can tell its own
 * orphans from links a user made (a -b bridge is never marked, never deleted).
 */
import { randomBytes } from 'node:crypto';
import { run, runJson, kernelSays } from './exec.js';

export const OWNER_ALIAS = 'berth';

export interface LinkInfo {
  name: string;
  kind: string | undefined;
  mtu: number;
  up: boolean;
  ownedByBerth: boolean;
  addresses: string[]; // "172.17.0.1/16"
  master: string | undefined;
}

interface IpLinkJson {
  ifname: string;
  mtu: number;
  flags?: string[];
  ifalias?: string;
  master?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local: string; prefixlen: number; scope?: string }[];
}

/** All links of the namespace with their addresses (one `ip` spawn). */
export async function listLinks(): Promise<LinkInfo[]> {
  const rows = await runJson<IpLinkJson>('ip', ['-json', '-details', 'addr', 'show']);
  return rows.map((r) => ({
    name: r.ifname,
    kind: r.linkinfo?.info_kind,
    mtu: r.mtu,
    up: (r.flags ?? []).includes('UP'),
    ownedByBerth: r.ifalias === OWNER_ALIAS,
    master: r.master,
    addresses: (r.addr_info ?? []).filter((a) => a.scope !== 'link').map((a) => `${a.local}/${a.prefixlen}`),
  }));
}

export async function getLink(name: string): Promise<LinkInfo | undefined> {
  return (await listLinks()).find((l) => l.name === name);
}

export interface BridgeSpec {
  name: string;
  mtu: number;
  /** Addresses of the bridge itself (the gateways), CIDR form "172.18.0.1/16". */
  addresses: string[];
}

/**
 * Make the bridge exist, up, with these addresses and MTU. Idempotent: an existing
 * bridge is completed, not recreated. A bridge made here carries berth's ifalias (it
 * is berth's to delete); one that existed keeps whatever it had, so a user's bridge is
 * never taken for berth's. All changes go through one `ip -batch`.
 */
export async function ensureBridge(spec: BridgeSpec, existing?: LinkInfo): Promise<void> {
  const cmds = bridgeCommands(spec, existing);
  if (cmds.length > 0) await batch(cmds);
}

/**
 * The iproute2 commands ensureBridge runs (pure). IPv6 gateways skip duplicate address
 * detection, as Docker's do: a bridge without ports has no carrier, so DAD would leave
 * the address tentative (unusable as a source) until the first container joins, and
 * then for a second or two more; berth's IPAM already made the address unique.
 */
export function bridgeCommands(spec: BridgeSpec, existing?: LinkInfo): string[] {
  const cmds: string[] = [];
  if (!existing) {
    cmds.push(`link add name ${spec.name} type bridge`, `link set dev ${spec.name} mtu ${spec.mtu} alias ${OWNER_ALIAS}`);
  } else if (existing.ownedByBerth && existing.mtu !== spec.mtu) {
    cmds.push(`link set dev ${spec.name} mtu ${spec.mtu}`);
  }
  for (const addr of spec.addresses) {
    if (!existing?.addresses.includes(addr)) cmds.push(`addr replace ${addr} dev ${spec.name}${addr.includes(':') ? ' nodad' : ''}`);
  }
  if (!existing?.up) cmds.push(`link set dev ${spec.name} up`);
  return cmds;
}

/** Delete a link; a link that is already gone is success. */
export async function deleteLink(name: string): Promise<void> {
  try {
    await run('ip', ['link', 'del', 'dev', name]);
  } catch (e: unknown) {
    if (!kernelSays(e, 'missing')) throw e;
  }
}

/** Deletions that retireLink left running; see retiredLinksGone. */
const retiring = new Set<Promise<void>>();

/**
 * Take a link out of use at once and delete it in the background. The kernel takes
 * 30-80 ms to unregister a bridge (nearly all of `network rm`) and 10-15 ms for a veth;
 * down, without addresses and under a throwaway name (one batch, a few ms) the link
 * already frees its name, subnet and routes. The throwaway name keeps berth's ifalias, so if the daemon dies before the
 * deletion ends, reconcile's orphan sweep deletes it at the next start.
 * `onError` hears of a deletion that failed (the link then waits for that sweep).
 */
export async function retireLink(name: string, onError: (e: unknown) => void): Promise<void> {
  const doomed = `berthrm-${randomBytes(3).toString('hex')}`;
  try {
    await batch([`link set dev ${name} down`, `addr flush dev ${name}`, `link set dev ${name} name ${doomed} alias ${OWNER_ALIAS}`]);
  } catch (e: unknown) {
    if (kernelSays(e, 'missing')) return;
    return deleteLink(name); // the old, slow way (a name clash on the throwaway name, say)
  }
  const deletion = deleteLink(doomed).catch(onError);
  retiring.add(deletion);
  void deletion.finally(() => retiring.delete(deletion));
}

/** Resolves when every link handed to retireLink so far is deleted (or failed to be). */
export async function retiredLinksGone(): Promise<void> {
  await Promise.all([...retiring]);
}

/** Remove addresses from a link we do not own (a -b bridge), ignoring ones already gone. */
export async function removeAddresses(name: string, addresses: string[]): Promise<void> {
  for (const addr of addresses) {
    try {
      await run('ip', ['addr', 'del', addr, 'dev', name]);
    } catch (e: unknown) {
      if (!kernelSays(e, 'missing')) throw e;
    }
  }
}

/** Several iproute2 commands in one process. */
export async function batch(cmds: string[], netns?: string): Promise<string> {
  return run('ip', ['-batch', '-'], { input: cmds.join('\n') + '\n', ...(netns ? { netns } : {}) });
}
