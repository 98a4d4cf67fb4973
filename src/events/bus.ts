/**
 * The event bus: a ring of the most recent events (what `docker events --since` replays)
 * and the live subscribers. dockerd keeps 256 (daemon/events eventsLimit); berth keeps
 * more, so a replay reaches further back, at a few hundred kilobytes.
 */
import type { EventMessage, EventSink, EventType } from './types.js';

export const EVENTS_KEPT = 1000;

export interface Subscription {
  /** The kept events between since and until that `match` accepts, oldest first. */
  readonly replay: EventMessage[];
  /** Stop the live events. Idempotent. */
  cancel(): void;
}

export interface SubscribeOptions {
  /** Replay kept events from this time on (nanoseconds). Without since and until, nothing is replayed. */
  since?: bigint;
  /** Replay kept events up to this time (nanoseconds). */
  until?: bigint;
  match(m: EventMessage): boolean;
  /** Each live event `match` accepts, as it happens. */
  onEvent(m: EventMessage): void;
}

export class EventBus implements EventSink {
  private readonly ring: (EventMessage | undefined)[];
  /** Where the next event goes in the ring. */
  private next = 0;
  private count = 0;
  private lastNano = 0n;
  private readonly subscribers = new Set<Pick<SubscribeOptions, 'match' | 'onEvent'>>();

  constructor(
    private readonly capacity = EVENTS_KEPT,
    private readonly clock: () => bigint = nowNano,
  ) {
    this.ring = new Array<EventMessage | undefined>(capacity);
  }

  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    try {
      this.publish({ Type: type, Action: action, Actor: { ID: id, Attributes: { ...attributes } }, scope: 'local', ...this.stamp() });
    } catch {
      /* an event is never worth failing the operation that emitted it */
    }
  }

  /** The number of live subscribers (docker info's NEventsListener). */
  get listeners(): number {
    return this.subscribers.size;
  }

  /**
   * Subscribe: the replay and the registration happen at once (no event can fall
   * between them), as dockerd's SubscribeTopic.
   */
  subscribe(opts: SubscribeOptions): Subscription {
    const sub = { match: opts.match, onEvent: opts.onEvent };
    const replay = this.replay(opts);
    this.subscribers.add(sub);
    return { replay, cancel: () => void this.subscribers.delete(sub) };
  }

  /** Kept events, oldest first. */
  kept(): EventMessage[] {
    const out: EventMessage[] = [];
    for (let i = 0; i < this.count; i++) {
      const m = this.ring[(this.next - this.count + i + this.capacity) % this.capacity];
      if (m) out.push(m);
    }
    return out;
  }

  private replay(opts: SubscribeOptions): EventMessage[] {
    if (opts.since === undefined && opts.until === undefined) return [];
    const since = opts.since ?? 0n;
    return this.kept().filter((m) => m.timeNano >= since && (opts.until === undefined || m.timeNano <= opts.until) && safeMatch(opts.match, m));
  }

  private publish(m: EventMessage): void {
    this.ring[this.next] = m;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    for (const s of [...this.subscribers]) {
      if (!safeMatch(s.match, m)) continue;
      try {
        s.onEvent(m);
      } catch {
        this.subscribers.delete(s); // a subscriber that fails is dropped, not the emitter
      }
    }
  }

  /** Strictly increasing times, so since/until replays are exact even for events in the same microsecond. */
  private stamp(): { time: number; timeNano: bigint } {
    let nano = this.clock();
    if (nano <= this.lastNano) nano = this.lastNano + 1n;
    this.lastNano = nano;
    return { time: Number(nano / 1_000_000_000n), timeNano: nano };
  }
}

function safeMatch(match: (m: EventMessage) => boolean, m: EventMessage): boolean {
  try {
    return match(m);
  } catch {
    return false;
  }
}

/** The wall clock in nanoseconds: Date's milliseconds, refined by the monotonic clock's fraction. */
export function nowNano(): bigint {
  const ms = Date.now();
  const sub = Math.floor((performance.now() % 1) * 1e6);
  return BigInt(ms) * 1_000_000n + BigInt(sub);
}
