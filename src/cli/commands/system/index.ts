/** Top-level system verbs. */
import type { CommandSpec } from '../../registry.js';
import { doctor } from './doctor.js';
import { info } from './info.js';
import { topology } from './topology.js';
import { trace } from './trace.js';
import { version } from './version.js';

export const systemCommands: readonly CommandSpec[] = [doctor, info, topology, trace, version];
