/** The daemon's registry options as the registry client takes them (start and SIGHUP). */
import * as path from 'node:path';
import type { RegistryOptions } from '../engine/images/distribution/index.js';
import type { DaemonOptions } from './options.js';

/** Per-registry certificates live beside the configuration file, as /etc/docker/certs.d beside daemon.json. */
export function registryOptions(opts: DaemonOptions): Omit<RegistryOptions, 'dataRoot'> {
  return {
    insecureRegistries: opts.insecureRegistries,
    mirrors: opts.registryMirrors,
    certsDir: path.join(path.dirname(opts.configFile), 'certs.d'),
    maxConcurrentDownloads: opts.maxConcurrentDownloads,
    maxConcurrentUploads: opts.maxConcurrentUploads,
    maxDownloadAttempts: opts.maxDownloadAttempts,
  };
}
