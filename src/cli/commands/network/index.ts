/** The `berth network` verbs. */
import type { CommandSpec, GroupSpec } from '../../registry.js';
import { networkConnect, networkDisconnect } from './connect.js';
import { networkCreate } from './create.js';
import { networkInspect } from './inspect.js';
import { networkLs } from './ls.js';
import { networkPrune } from './prune.js';
import { networkRm } from './rm.js';

export const networkGroup: GroupSpec = { path: ['network'], summary: 'Manage networks' };

export const networkCommands: readonly CommandSpec[] = [
  networkConnect,
  networkCreate,
  networkDisconnect,
  networkInspect,
  networkLs,
  networkPrune,
  networkRm,
];
