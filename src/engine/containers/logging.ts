/** The log service seen through a container's record: its LogConfig and the facts its drivers tag lines with. */
import type { LogConfig } from '../../logs/config.js';
import { SPOOL_MAX_BYTES, type LogService } from '../../logs/service.js';
import type { ContainerLogging } from './lifecycle.js';
import type { ContainerRecord } from './model.js';

/** The container's LogConfig (records written before log options had only the driver). */
export function logConfigOf(c: ContainerRecord): LogConfig {
  return { type: c.spec.logDriver || 'json-file', config: { ...(c.spec.logOptions ?? {}) } };
}

export function containerLogging(logs: LogService): ContainerLogging {
  const logged = (c: ContainerRecord, args: string[], env: string[]) => ({
    id: c.id,
    config: logConfigOf(c),
    info: {
      containerId: c.id,
      containerName: `/${c.spec.name}`,
      entrypoint: args[0] ?? '',
      args: args.slice(1),
      imageId: c.spec.image.id,
      imageName: c.spec.image.ref,
      created: c.created,
      env,
      labels: c.spec.labels,
    },
  });
  return {
    spool: (c) => ({ path: logs.spoolPath(c.id, logConfigOf(c)), maxBytes: SPOOL_MAX_BYTES }),
    starting: async (c, args, env) => logs.starting(logged(c, args, env)),
    restored: (c, args, env) => logs.restored(logged(c, args, env)),
    leftover: async (c, args, env) => logs.leftover(logged(c, args, env)),
    exited: async (c) => logs.exited(c.id),
    removed: async (c) => logs.removed(c.id),
  };
}
