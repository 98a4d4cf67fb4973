/**
 * A container's events as dockerd logs them (LogContainerEventWithAttributes): the
 * action's own attributes, then the container's labels, its image as given and its name.
 * Every part of the engine emits through these (the health checks: healthStatusEvent).
 */
import type { EventSink } from '../../events/types.js';
import type { ContainerRecord, MountConfig } from './model.js';
import { parseSignal } from './signals.js';

export function containerEvent(events: EventSink, c: ContainerRecord, action: string, attributes: Record<string, string> = {}): void {
  events.emit('container', action, c.id, { ...attributes, ...c.spec.labels, image: c.spec.image.ref, name: c.spec.name });
}

/**
 * An exec's actions name its command line as dockerd writes it, the entrypoint, a space,
 * the arguments ("exec_start: sh -c date"; "exec_start: true " without arguments).
 */
export function execAction(action: 'exec_create' | 'exec_start', cmd: readonly string[]): string {
  const [entrypoint = '', ...args] = cmd;
  return `${action}: ${entrypoint} ${args.join(' ')}`;
}

/** volume mount, for each volume a starting container mounts (dockerd's setupMounts). */
export function volumesMounted(events: EventSink, c: ContainerRecord): void {
  for (const m of volumeMounts(c)) {
    events.emit('volume', 'mount', m.source, { driver: 'local', container: c.id, destination: m.destination, 'read/write': String(!m.readonly), propagation: '' });
  }
}

/** volume unmount, for each volume of a container that stopped (dockerd's UnmountVolumes). */
export function volumesUnmounted(events: EventSink, c: ContainerRecord): void {
  for (const m of volumeMounts(c)) events.emit('volume', 'unmount', m.source, { driver: 'local', container: c.id });
}

function volumeMounts(c: ContainerRecord): MountConfig[] {
  return c.spec.mounts.filter((m) => m.type === 'volume' && m.source !== '');
}

/** kill, for each signal the daemon sent (a stop's too), with its number as dockerd gives it. */
export function killEvent(events: EventSink, c: ContainerRecord, signal: string | number): void {
  let n: string;
  try {
    n = String(typeof signal === 'number' ? signal : parseSignal(signal));
  } catch {
    n = String(signal);
  }
  containerEvent(events, c, 'kill', { signal: n });
}

/** health_status, for the health checks: Docker's action names the new status ("health_status: healthy"). */
export function healthStatusEvent(events: EventSink, c: ContainerRecord, status: 'starting' | 'healthy' | 'unhealthy'): void {
  containerEvent(events, c, `health_status: ${status}`);
}
