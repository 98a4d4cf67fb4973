/**
 * Services and their tasks, as the cluster store keeps them: the contract between the
 * orchestrator (one manager at a time turns services into tasks and places them), the
 * agents (every node runs its tasks as containers and reports how they are) and the
 * data plane (every node balances a service's virtual IP over its running tasks).
 *
 * Keys (one writer each, so no two parts race for a key):
 * - services/<id>      ServiceRecord: written by the API on a manager and the orchestrator
 * - tasks/<id>         TaskRecord: written by the orchestrator only (what should be)
 * - task-status/<id>   TaskStatus: written by the agent of the task's node only (what is)
 *
 * A task's container carries Docker's labels (TASK_LABELS): the network layer reads them
 * to tag the container's endpoints with their service, which is how every node learns a
 * service's backends (endpoints/<network>/<endpoint>, bound to the node's lease).
 */

/** Docker's ServiceSpec as the API takes and shows it; kept in Docker's field names because inspect returns it as given. */
export interface ServiceSpec {
  Name: string;
  Labels?: Record<string, string>;
  TaskTemplate: TaskSpec;
  Mode?: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  EndpointSpec?: EndpointSpec;
}

export type ServiceMode = { Replicated: { Replicas?: number } } | { Global: Record<string, never> };

export interface TaskSpec {
  ContainerSpec: ContainerSpec;
  Resources?: Record<string, unknown>;
  RestartPolicy?: RestartPolicy;
  Placement?: { Constraints?: string[]; Preferences?: unknown[]; MaxReplicas?: number };
  Networks?: NetworkAttachment[];
  LogDriver?: { Name: string; Options?: Record<string, string> };
  /** Bumped by `service update --force`: a new value restarts every task. */
  ForceUpdate?: number;
}

export interface ContainerSpec {
  Image: string;
  Labels?: Record<string, string>;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Mounts?: Record<string, unknown>[];
  /** Nanoseconds. */
  StopGracePeriod?: number;
  StopSignal?: string;
  TTY?: boolean;
  OpenStdin?: boolean;
  Init?: boolean;
  Healthcheck?: Record<string, unknown>;
}

export interface RestartPolicy {
  Condition?: 'none' | 'on-failure' | 'any';
  /** Nanoseconds. */
  Delay?: number;
  MaxAttempts?: number;
  /** Nanoseconds. */
  Window?: number;
}

export interface UpdateConfig {
  Parallelism?: number;
  /** Nanoseconds. */
  Delay?: number;
  FailureAction?: 'continue' | 'pause' | 'rollback';
  /** Nanoseconds. */
  Monitor?: number;
  MaxFailureRatio?: number;
  Order?: 'stop-first' | 'start-first';
}

export interface NetworkAttachment {
  /** The network's ID (the API resolves names to IDs before storing). */
  Target: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string>;
}

export type EndpointMode = 'vip' | 'dnsrr';

export interface EndpointSpec {
  Mode?: EndpointMode;
  Ports?: PortConfig[];
}

export interface PortConfig {
  Name?: string;
  Protocol: 'tcp' | 'udp' | 'sctp';
  TargetPort: number;
  /** Filled by the orchestrator (30000–32767) for an ingress port given without one. */
  PublishedPort?: number;
  PublishMode: 'ingress' | 'host';
}

/** A virtual IP of a service on one network, as Docker shows it (`10.0.1.2/24`). */
export interface VirtualIp {
  networkId: string;
  addr: string;
}

/** services/<id> */
export interface ServiceRecord {
  id: string;
  /** Docker's Version.Index: bumped by every write, checked by update's `version`. */
  version: number;
  createdAt: string;
  updatedAt: string;
  spec: ServiceSpec;
  previousSpec?: ServiceSpec;
  /** vip mode: one per network the service is on (none in dnsrr mode). */
  virtualIps: VirtualIp[];
  /** The ports as published (PublishedPort always filled). */
  ports: PortConfig[];
  /**
   * The client's X-Registry-Auth (`service create|update --with-registry-auth`), as it
   * came: the nodes pull the task's image with it. Never shown, as dockerd keeps it out
   * of the spec it returns; kept by an update that sends none.
   */
  registryAuth?: string;
  /**
   * Docker's UpdateStatus: the API starts a rollback (and clears it on an update), the
   * orchestrator says when a rolling update starts and when it or a rollback is done.
   */
  updateStatus?: UpdateStatus;
}

/** Docker's UpdateStatus (swarmkit's words in `message`). */
export interface UpdateStatus {
  state: 'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';
  message: string;
  startedAt: string;
  completedAt?: string;
}

/** swarmkit's task states, in their order: a task only moves forward. */
export const TASK_STATES = ['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as const;
export type TaskState = (typeof TASK_STATES)[number];
/** The states a task ends in: it runs no more and moves no further. */
export const ENDED_STATES: ReadonlySet<TaskState> = new Set(['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

/** tasks/<id>: what should be, written by the orchestrator only. */
export interface TaskRecord {
  id: string;
  version: number;
  createdAt: string;
  updatedAt: string;
  serviceId: string;
  /** Replicated services: the replica's slot (1…N); global services: none. */
  slot?: number;
  /** The node it runs on; empty while the orchestrator finds none (the task stays pending, with the reason in its status). */
  nodeId: string;
  /** The service's spec it runs (a snapshot: a later update makes new tasks). */
  spec: TaskSpec;
  /** The service's version this task was made from. */
  serviceVersion: number;
  desiredState: 'running' | 'shutdown' | 'remove';
  /** The orchestrator's word while no agent has one (pending: "no suitable node …"). */
  orchestratorStatus?: { state: 'new' | 'pending' | 'assigned'; message: string; err?: string; timestamp: string };
}

/** task-status/<id>: what is, written by the agent of the task's node only. */
export interface TaskStatus {
  state: TaskState;
  /** swarmkit's short words: "created", "started", "finished"… */
  message: string;
  /** What went wrong, shown in `service ps`'s ERROR column. */
  err?: string;
  timestamp: string;
  containerId?: string;
  pid?: number;
  exitCode?: number;
  /** The task's addresses, per network (CIDR form, as Docker's NetworksAttachments). */
  networks: { networkId: string; addresses: string[] }[];
}

/** The labels a task's container carries (Docker's). */
export const TASK_LABELS = {
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
  nodeId: 'com.docker.swarm.node.id',
  task: 'com.docker.swarm.task',
} as const;
