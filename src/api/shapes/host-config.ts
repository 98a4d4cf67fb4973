/**
 * The HostConfig and Config inspect shows, as dockerd does: the create request decoded
 * as Go decodes it (every field of API 1.44 under its own name, unknown ones dropped,
 * zero where absent) with the defaults dockerd applies at create (moby daemon/create.go,
 * adaptContainerSettings, mergeAndVerifyLogConfig) filled in. Idempotent: it runs at
 * create on the request and at inspect on the stored copy, so records written by older
 * berths (which kept the request as sent) answer the same.
 */
import { MASKED_PATHS, READONLY_PATHS } from '../../runtime/oci.js';
import { CONFIG_FIELDS, decodeStruct, HOST_CONFIG_FIELDS } from '../docker-fields.js';
import { asObject } from '../wire.js';

/** dockerd's default /dev/shm size (64 MiB). */
export const DEFAULT_SHM_SIZE = 67108864;

/** The effective HostConfig; `stored` may be a request, or what an older berth stored. */
export function effectiveHostConfig(stored: unknown): Record<string, unknown> {
  const hc = decodeStruct(asObject(stored, 'HostConfig'), HOST_CONFIG_FIELDS, 'HostConfig', false);
  const log = hc.LogConfig as { Type: string; Config: Record<string, string> | null };
  hc.LogConfig = { Type: log.Type || 'json-file', Config: log.Config ?? {} };
  const restart = hc.RestartPolicy as { Name: string; MaximumRetryCount: number };
  hc.RestartPolicy = { Name: restart.Name || 'no', MaximumRetryCount: restart.MaximumRetryCount };
  if (hc.NetworkMode === '' || hc.NetworkMode === 'default') hc.NetworkMode = 'bridge';
  hc.PortBindings ??= {};
  if (hc.ShmSize === 0) hc.ShmSize = DEFAULT_SHM_SIZE;
  if (hc.IpcMode === '') hc.IpcMode = 'private';
  // berth leaves a container in the host's cgroup namespace unless asked (dockerd's cgroup v1 default).
  if (hc.CgroupnsMode === '') hc.CgroupnsMode = 'host';
  hc.OomKillDisable ??= false;
  if (hc.MemorySwappiness === -1) hc.MemorySwappiness = null;
  if (typeof hc.PidsLimit === 'number' && hc.PidsLimit <= 0) hc.PidsLimit = null;
  if ((hc.Memory as number) > 0 && hc.MemorySwap === 0) hc.MemorySwap = (hc.Memory as number) * 2;
  hc.Runtime ||= 'runc';
  if (!hc.Privileged) {
    hc.MaskedPaths ??= [...MASKED_PATHS];
    hc.ReadonlyPaths ??= [...READONLY_PATHS];
  }
  return hc;
}

/** The Config: every field of API 1.44 under its own name; StrSlice commands as lists. */
export function effectiveConfig(stored: unknown): Record<string, unknown> {
  return decodeStruct(asObject(stored, 'Config'), CONFIG_FIELDS, 'Config', false);
}
