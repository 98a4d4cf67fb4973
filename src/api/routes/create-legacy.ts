/**
 * What dockerd's container create does for older API versions (moby's
 * postContainersCreate), berth doing the same: docker-py 5 speaks API 1.41, and puts a
 * container's MAC address at the top of Config.
 */
import { invalid } from '../../errors.js';
import type { EndpointConfig, NetworkMode } from '../../engine/containers/model.js';
import { compareVersions } from '../router.js';

/** Settings an older client could not have meant: reset as dockerd resets them. */
export function adjustForVersion(version: string, hc: Record<string, unknown>): void {
  // Older clients expect a shareable IPC namespace by default (it is one berth can share).
  if (compareVersions(version, '1.40') < 0 && hc.IpcMode === '') hc.IpcMode = 'shareable';
  // ConsoleSize is not respected by Linux dockerd before 1.42.
  if (compareVersions(version, '1.42') < 0) hc.ConsoleSize = [0, 0];
  // Annotations came with 1.43.
  if (compareVersions(version, '1.43') < 0) delete hc.Annotations;
}

/** Before 1.44 a container is created on one network at most. */
export function checkEndpointCount(version: string, endpoints: readonly string[]): void {
  if (compareVersions(version, '1.44') < 0 && endpoints.length > 1) {
    throw invalid(`Container cannot be created with multiple network endpoints: ${endpoints.join(', ')}`);
  }
}

/**
 * The container-wide Config.MacAddress (deprecated in 1.44) moved to the endpoint of the
 * container's main network, as dockerd's handleMACAddressBC does; before 1.44 the
 * endpoints' own MAC addresses are ignored, as the old API ignored them. Returns the
 * create's warnings.
 */
export function migrateMacAddress(version: string, mac: string, mode: NetworkMode, networks: Record<string, EndpointConfig>): string[] {
  const old = compareVersions(version, '1.44') < 0;
  if (mac === '') {
    if (old) for (const cfg of Object.values(networks)) delete cfg.mac;
    return [];
  }
  const main = mode.kind === 'bridge' ? 'bridge' : mode.kind === 'network' ? mode.name : undefined;
  if (old) {
    if (main === undefined) throw invalid('conflicting options: mac-address and the network mode');
    mainEndpoint(networks, main).mac = mac;
    return [];
  }
  if (main !== undefined) {
    const ep = mainEndpoint(networks, main);
    if (ep.mac === undefined) ep.mac = mac;
    else if (ep.mac.toLowerCase() !== mac.toLowerCase()) {
      throw invalid('the container-wide MAC address must match the endpoint-specific MAC address for the main network, or be left empty');
    }
  }
  return ['The container-wide MacAddress field is now deprecated. It should be specified in EndpointsConfig instead.'];
}

function mainEndpoint(networks: Record<string, EndpointConfig>, name: string): EndpointConfig {
  return (networks[name] ??= { aliases: [], links: [] });
}
