/** What the parts of the container engine share: its log, the lifecycle hooks, wait conditions. */
import type { EndpointRecord } from '../../network/model.js';
import type { ImageStore } from '../images/index.js';
import type { ContainerRecord } from './model.js';

export interface EngineLog {
  info(msg: string): void;
  warn(msg: string): void;
}

/** What the container engine asks of the image store (unit tests give a fake). */
export type EngineImages = Pick<ImageStore, 'resolve' | 'get' | 'layerDirs' | 'setUsers'>;

/** docker wait's conditions. */
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Hooks other parts of the daemon (DNS, ports) hang on the lifecycle. */
export interface LifecycleHooks {
  /** After the network is joined, before the process runs. May throw to abort the start. */
  started?(c: ContainerRecord, endpoints: EndpointRecord[]): Promise<void>;
  /** After the process runs (recorded as running): a start, or a live container found again by reconcile. Must not throw. */
  running?(c: ContainerRecord): void;
  /** After the process has exited (or the start failed), before the network is left. */
  stopped?(c: ContainerRecord): Promise<void>;
  /** After a running container was disconnected from a network. */
  left?(c: ContainerRecord, ep: EndpointRecord): Promise<void>;
  /** A running container's names or links changed (a rename): its endpoints as they are now. */
  renamed?(c: ContainerRecord, endpoints: EndpointRecord[]): Promise<void>;
}

/** The containers' logging, as the lifecycle drives it (logs/service.ts through logging.ts). */
export interface ContainerLogging {
  /** The file conmon writes the output to (null: the none driver) and conmon's limit on it. */
  spool(c: ContainerRecord): { path: string | null; maxBytes: number };
  /** Before the process runs: open its driver; throws to fail the start (Docker's words). */
  starting(c: ContainerRecord, args: string[], env: string[]): Promise<void>;
  /** After a daemon restart, for a container still running. */
  restored(c: ContainerRecord, args: string[], env: string[]): void;
  /** After a daemon restart, for one that is not: what its spool still holds goes to its files. */
  leftover(c: ContainerRecord, args: string[], env: string[]): Promise<void>;
  /** The process exited (or the start failed after starting): the rest of its output is shipped. */
  exited(c: ContainerRecord): Promise<void>;
  /** It is being removed. */
  removed(c: ContainerRecord): Promise<void>;
}
