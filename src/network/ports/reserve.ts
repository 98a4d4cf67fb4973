/**
 * Reserving allocated host ports against host processes: one socket per host port and
 * address family, held while the ports are published (see src/kernel/hostports.ts).
 * Where the kernel cannot forward, the socket relays (serving.ts). SCTP ports are not
 * held (Node has no SCTP sockets); the allocator still guards them against other
 * publications.
 */
import { BerthError } from '../../errors.js';
import { HostPortError, errnoText, type HeldSockets, type HostSocketSpec } from '../../kernel/hostports.js';
import { bindAddresses, containerAddress, relays, type PublishTarget, type RelayScope } from './serving.js';
import { rangeLength, type PortSpec } from './spec.js';

/** What the host ports of a container are held by; release on unpublish (idempotent). */
export interface Reservation {
  readonly sockets: number;
  release(): Promise<void>;
}

/** One socket per host port and bound address of each mapping (SCTP excepted), relaying where serving.ts says. */
export function socketsFor(mappings: readonly PortSpec[], target: PublishTarget, scope: RelayScope = 'kernel'): HostSocketSpec[] {
  const specs: HostSocketSpec[] = [];
  for (const m of mappings) {
    if (m.proto === 'sctp') continue;
    for (const address of bindAddresses(m.hostIp, target)) {
      const relayTo = relays(address, m.proto, scope) ? containerAddress(address, target) : undefined;
      for (let port = m.hostPorts.start; port <= m.hostPorts.end; port++) {
        const forward = relayTo ? { address: relayTo, port: m.containerPorts.start + (port - m.hostPorts.start) } : undefined;
        specs.push({ proto: m.proto, address, port, ...(forward ? { forward } : {}) });
      }
    }
  }
  return specs;
}

const hostPort = (ip: string, port: number): string => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

/** The mapping and container address behind a failed socket, for Docker's message. */
function describe(mappings: readonly PortSpec[], target: PublishTarget, s: HostSocketSpec): string {
  const m = mappings.find((x) => x.proto === s.proto && s.port >= x.hostPorts.start && s.port <= x.hostPorts.end);
  if (!m) return hostPort(s.address, s.port);
  const containerIp = containerAddress(s.address, target) ?? '';
  const containerPort = m.containerPorts.start + (s.port - m.hostPorts.start);
  return `${hostPort(s.address, s.port)}:${hostPort(containerIp, containerPort)}/${m.proto}`;
}

/**
 * Holds the host ports of `mappings` (allocated, exact). A port a host process has fails
 * with Docker 28's message, "failed to bind host port for
 * 0.0.0.0:8000:172.17.0.2:80/tcp: address already in use"; the error's `busy` says which
 * port, so the caller can pick another ephemeral one. All or nothing.
 */
export async function reserveHostPorts(
  hold: (specs: readonly HostSocketSpec[]) => Promise<HeldSockets>,
  mappings: readonly PortSpec[],
  target: PublishTarget,
  opts: { scope?: RelayScope } = {},
): Promise<Reservation> {
  try {
    const held = await hold(socketsFor(mappings, target, opts.scope));
    return { sockets: held.count, release: () => held.close() };
  } catch (e: unknown) {
    if (!(e instanceof HostPortError)) throw e;
    throw new HostPortBusyError(`failed to bind host port for ${describe(mappings, target, e.spec)}: ${errnoText(e.code)}`, e.spec, e.code);
  }
}

/** A host port already taken on the host (or otherwise not bindable). */
export class HostPortBusyError extends BerthError {
  constructor(
    message: string,
    readonly spec: HostSocketSpec,
    readonly code: string,
  ) {
    super(code === 'EMFILE' || code === 'ENFILE' ? 'System' : 'Conflict', message);
  }
}

/** Number of sockets a set of mappings needs (for logs and limits). */
export function socketCount(mappings: readonly PortSpec[], target: PublishTarget): number {
  return mappings.reduce((n, m) => n + (m.proto === 'sctp' ? 0 : rangeLength(m.hostPorts) * bindAddresses(m.hostIp, target).length), 0);
}

