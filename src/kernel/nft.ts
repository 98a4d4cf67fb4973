/**
 * nftables through the `nft` tool: one transaction per call (`nft -f -` reads the whole
 * script from stdin and commits it atomically, or nothing), JSON listings of a table,
 * and deletion of a table. berth only ever names its own tables here.
 */
import { run, kernelSays, type RunOptions } from './exec.js';
import type { KernelNft, NftFamily, NftObject } from './port.js';

/** Where nft runs: by default the daemon's own namespace; tests name another. */
export interface NftOptions {
  /** Path of a network namespace to run in (nsenter --net=PATH). */
  netns?: string;
}

const runOpts = (o: NftOptions, input?: string): RunOptions => ({ ...(o.netns ? { netns: o.netns } : {}), ...(input !== undefined ? { input } : {}) });

/** Commits `script` as one transaction (one nft process). Throws KernelCommandError with nft's message. */
export async function nftApply(script: string, opts: NftOptions = {}): Promise<void> {
  if (script.trim() === '') return;
  await run('nft', ['-f', '-'], runOpts(opts, script));
}

/** The objects of one table, or undefined if it does not exist. */
export async function nftListTable(family: NftFamily, name: string, opts: NftOptions = {}): Promise<NftObject[] | undefined> {
  try {
    const out = await run('nft', ['-j', 'list', 'table', family, name], runOpts(opts));
    const parsed = JSON.parse(out) as { nftables?: NftObject[] };
    return (parsed.nftables ?? []).filter((o) => !('metainfo' in o));
  } catch (e: unknown) {
    if (kernelSays(e, 'missing')) return undefined;
    throw e;
  }
}

/** Every table of the namespace, berth's and anyone else's (iptables-nft, firewalld, …). */
export async function nftListTables(opts: NftOptions = {}): Promise<{ family: string; name: string }[]> {
  const parsed = JSON.parse(await run('nft', ['-j', 'list', 'tables'], runOpts(opts))) as { nftables?: NftObject[] };
  return (parsed.nftables ?? []).flatMap((o) => {
    const t = o['table'];
    return t && typeof t['family'] === 'string' && typeof t['name'] === 'string' ? [{ family: t['family'], name: t['name'] }] : [];
  });
}

/** Deletes a table; a table that does not exist is success. */
export async function nftDeleteTable(family: NftFamily, name: string, opts: NftOptions = {}): Promise<void> {
  // "add" first makes the delete valid whether or not the table exists, in one transaction.
  await nftApply(`add table ${family} ${name}\ndelete table ${family} ${name}\n`, opts);
}

/** The Kernel port's nftables, run in the daemon's namespace or (tests) another. */
export function nftIn(opts: NftOptions = {}): KernelNft {
  return {
    apply: async (script) => nftApply(script, opts),
    listTable: async (family, name) => nftListTable(family, name, opts),
    listTables: async () => nftListTables(opts),
    deleteTable: async (family, name) => nftDeleteTable(family, name, opts),
    applyIn: async (netns, script) => nftApply(script, { netns }),
    listTableIn: async (netns, family, name) => nftListTable(family, name, { netns }),
  };
}

/** Counts of a listed table: for inspection, tests and `berth topology`. */
export interface NftTableSummary {
  chains: number;
  rules: number;
  /** Elements per set or map name. */
  elements: Record<string, number>;
}

/** The elements of set `name` in a listed table, as nft prints them (plain values only). */
export function setElements(objects: readonly NftObject[], name: string): string[] {
  const set = objects.map((o) => o['set']).find((s) => s?.['name'] === name);
  const elem = set?.['elem'];
  return Array.isArray(elem) ? elem.filter((e): e is string => typeof e === 'string') : [];
}

export function summarizeTable(objects: readonly NftObject[]): NftTableSummary {
  const summary: NftTableSummary = { chains: 0, rules: 0, elements: {} };
  for (const o of objects) {
    if ('chain' in o) summary.chains++;
    else if ('rule' in o) summary.rules++;
    const set = o['set'] ?? o['map'];
    if (set && typeof set['name'] === 'string') {
      const elem = set['elem'];
      summary.elements[set['name']] = Array.isArray(elem) ? elem.length : 0;
    }
  }
  return summary;
}
