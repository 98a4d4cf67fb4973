/** The macvlan driver's options, validated once into a typed configuration. Pure. */
import { invalid } from '../../../errors.js';
import type { NetworkRecord } from '../../model.js';
import { parseParent, type ParentRef, type ParentUse } from '../sublink/parent.js';

export const MACVLAN_MODES = ['bridge', 'private', 'vepa', 'passthru'] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

export interface MacvlanConfig {
  networkId: string;
  networkName: string;
  /** `-o parent`; without it the network's own dummy-like link. */
  parent: ParentRef;
  /** No way out: `--internal`, or no parent. Containers get no default route (Docker's behaviour). */
  internal: boolean;
  /** `-o macvlan_mode`, bridge by default. */
  mode: MacvlanMode;
}

export function parseMacvlanConfig(net: NetworkRecord): MacvlanConfig {
  const mode = net.options['macvlan_mode'] || 'bridge';
  if (!(MACVLAN_MODES as readonly string[]).includes(mode)) {
    throw invalid(`requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`);
  }
  const parent = parseParent(net, 'macvlan');
  return { networkId: net.id, networkName: net.name, parent, internal: net.internal || parent.own, mode: mode as MacvlanMode };
}

export function macvlanParentUse(c: MacvlanConfig): ParentUse {
  return { networkId: c.networkId, networkName: c.networkName, driver: 'macvlan', parent: c.parent.name, passthru: c.mode === 'passthru' };
}
