/** Published ports: request parsing, host-port allocation (pure) and reservation against host processes. */
export * from './spec.js';
export * from './allocator.js';
export * from './reserve.js';
export * from './serving.js';

import { allocatePorts, type BusyPort, type PortAllocatorState } from './allocator.js';
import { HostPortBusyError, type Reservation } from './reserve.js';
import type { PublishTarget } from './serving.js';
import { isExact, type PortSpec } from './spec.js';

export interface PublishedPorts {
  state: PortAllocatorState;
  /** Exact mappings, index-aligned with the requests. */
  mappings: PortSpec[];
  reservation: Reservation;
}

/**
 * Allocates host ports for one owner and holds them. An ephemeral (or host-range) port
 * that a host process turns out to have is skipped and another is tried, up to
 * `attempts` times; an exact port that is busy fails with Docker's bind error. Nothing
 * is held and `state` is unchanged when this throws.
 */
export async function allocateAndReserve(
  state: PortAllocatorState,
  owner: string,
  requests: readonly PortSpec[],
  target: PublishTarget,
  opts: { reserve: (mappings: readonly PortSpec[], target: PublishTarget) => Promise<Reservation>; attempts?: number },
): Promise<PublishedPorts> {
  const reserve = opts.reserve;
  const busy: BusyPort[] = [];
  for (let attempt = 1; ; attempt++) {
    const allocated = allocatePorts(state, owner, requests, busy);
    try {
      const reservation = await reserve(allocated.mappings, target);
      return { ...allocated, reservation };
    } catch (e: unknown) {
      if (!(e instanceof HostPortBusyError) || attempt >= (opts.attempts ?? 16)) throw e;
      const { proto, port } = e.spec;
      const index = allocated.mappings.findIndex((m) => m.proto === proto && port >= m.hostPorts.start && port <= m.hostPorts.end);
      const request = requests[index];
      if (!request || isExact(request)) throw e;
      busy.push({ proto, hostIp: request.hostIp, port });
    }
  }
}
