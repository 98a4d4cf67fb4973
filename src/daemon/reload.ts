/** SIGHUP's work: what dockerd reloads, reloaded; what needs a restart, said so. */
import { messageOf } from '../errors.js';
import type { LogService } from '../logs/service.js';
import { withConfigFile } from './config-file.js';
import type { Logger } from './logger.js';
import type { DaemonOptions, GivenFlag } from './options.js';
import type { Registries } from '../engine/images/distribution/index.js';
import { registryOptions } from './registry-options.js';
/**
 * SIGHUP: the configuration file read again; the log level and the default log driver
 * and options (for containers created from now on) change; what only a restart changes
 * is named in the log. A file that does not check out changes nothing.
 */
export function reload(current: DaemonOptions, cli: readonly GivenFlag[], log: Logger, logs: LogService, registries?: Registries): void {
  log.info(`got signal to reload configuration (config-file ${current.configFile})`);
  let next: DaemonOptions;
  try {
    next = withConfigFile(cli);
    logs.setDefaults({ type: next.logDriver, config: next.logOpts });
    registries?.reload(registryOptions(next));
  } catch (e: unknown) {
    log.error(`error reloading configuration: ${messageOf(e)}`);
    return;
  }
  log.setLevel(next.logLevel);
  const text = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
  const restartOnly = (['dataRoot', 'execRoot', 'socketPath', 'bip', 'bridge', 'mtu', 'firewall', 'dns', 'addressPools'] as const).filter(
    (k) => text(next[k]) !== text(current[k]),
  );
  if (restartOnly.length > 0) log.warn(`reload: ${restartOnly.join(', ')} changed in the configuration file; they take effect at the next start`);
  log.info(`reloaded configuration: log-level ${next.logLevel}, log-driver ${next.logDriver}, log-opts ${JSON.stringify(next.logOpts)}, registry-mirrors ${JSON.stringify(next.registryMirrors)}, insecure-registries ${JSON.stringify(next.insecureRegistries)}`);
}
