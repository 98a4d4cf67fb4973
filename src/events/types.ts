/**
 * The daemon's events in Docker's shape (API 1.44's events.Message, without the legacy
 * fields the API adds for old clients). The parts of the daemon that emit see only
 * EventSink; the bus (bus.ts) keeps the recent ones and feeds the subscribers.
 */

/** Docker's event types; berth emits container, image, volume, network and daemon events. */
export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'node' | 'service' | 'secret' | 'config';

export interface EventActor {
  /** The object's ID (a container's, a network's, a volume's name, an image's ID or reference). */
  ID: string;
  Attributes: Record<string, string>;
}

export interface EventMessage {
  Type: EventType;
  /** "create", "die", "exec_start: sh -c date", "health_status: healthy" … */
  Action: string;
  Actor: EventActor;
  scope: 'local';
  /** Seconds since the epoch. */
  time: number;
  /** Nanoseconds since the epoch: beyond a double's exact integers, so a bigint. */
  timeNano: bigint;
}

/** Where the parts of the daemon send their events. */
export interface EventSink {
  /**
   * Record an event now. Fire-and-forget: never throws and never waits, whatever a
   * subscriber does, so a caller may emit in the middle of any operation.
   */
  emit(type: EventType, action: string, id: string, attributes?: Record<string, string>): void;
}

/** A sink that drops everything: for parts built without a bus (unit tests). */
export const NO_EVENTS: EventSink = { emit: () => undefined };
