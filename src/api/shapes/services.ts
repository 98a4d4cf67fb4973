/**
 * Docker's Service and Task JSON (API 1.44, dockerd's convert package), made from the
 * records of cluster/services: the spec as given (with the defaults swarmkit inserts when
 * asked), the endpoint with its published ports and virtual IPs, the task's status as its
 * agent last said it (or the orchestrator's while none has).
 */
import type { NetworkRecord } from '../../network/model.js';
import type { ServiceRecord, ServiceSpec, TaskSpec } from '../../cluster/services/model.js';
import type { TaskView } from '../../cluster/services/services.js';

const SECOND = 1_000_000_000;

export interface ServiceStatusShape {
  RunningTasks: number;
  DesiredTasks: number;
  CompletedTasks: number;
}

export function serviceShape(s: ServiceRecord, version: number, opts: { insertDefaults?: boolean; status?: ServiceStatusShape } = {}): Record<string, unknown> {
  const spec = opts.insertDefaults ? withDefaults(s.spec) : specShape(s.spec);
  const endpointSpec = s.spec.EndpointSpec ?? { Mode: 'vip' };
  return {
    ID: s.id,
    Version: { Index: version },
    CreatedAt: s.createdAt,
    UpdatedAt: s.updatedAt,
    Spec: spec,
    ...(s.previousSpec ? { PreviousSpec: specShape(s.previousSpec) } : {}),
    ...(s.updateStatus
      ? { UpdateStatus: { State: s.updateStatus.state, StartedAt: s.updateStatus.startedAt, ...(s.updateStatus.completedAt ? { CompletedAt: s.updateStatus.completedAt } : {}), Message: s.updateStatus.message } }
      : {}),
    Endpoint: {
      Spec: { Mode: endpointSpec.Mode ?? 'vip', ...(endpointSpec.Ports ? { Ports: endpointSpec.Ports } : {}) },
      ...(s.ports.length > 0 ? { Ports: s.ports } : {}),
      ...(s.virtualIps.length > 0 ? { VirtualIPs: s.virtualIps.map((v) => ({ NetworkID: v.networkId, Addr: v.addr })) } : {}),
    },
    ...(opts.status ? { ServiceStatus: opts.status } : {}),
  };
}

function specShape(spec: ServiceSpec): Record<string, unknown> {
  return { ...spec, Labels: spec.Labels ?? {}, TaskTemplate: taskSpecShape(spec.TaskTemplate) };
}

function taskSpecShape(t: TaskSpec): Record<string, unknown> {
  return { ...t, ForceUpdate: t.ForceUpdate ?? 0, Runtime: 'container' };
}

/** swarmkit's defaults.InterpolateService: what a field left out means. */
function withDefaults(spec: ServiceSpec): Record<string, unknown> {
  const update = { Parallelism: 1, FailureAction: 'pause', Monitor: 5 * SECOND, MaxFailureRatio: 0, Order: 'stop-first' };
  const t = spec.TaskTemplate;
  return {
    ...specShape(spec),
    TaskTemplate: {
      ...taskSpecShape(t),
      ContainerSpec: { StopGracePeriod: 10 * SECOND, DNSConfig: {}, Isolation: 'default', ...t.ContainerSpec },
      Resources: { Limits: {}, Reservations: {}, ...t.Resources },
      RestartPolicy: { Condition: 'any', Delay: 5 * SECOND, MaxAttempts: 0, ...t.RestartPolicy },
      Placement: { ...t.Placement },
    },
    Mode: spec.Mode ?? { Replicated: { Replicas: 1 } },
    UpdateConfig: { ...update, ...spec.UpdateConfig },
    RollbackConfig: { ...update, ...spec.RollbackConfig },
    EndpointSpec: { Mode: 'vip', ...spec.EndpointSpec },
  };
}

/** A network as a task's NetworksAttachments shows it (dockerd's swarm Network). */
function networkShape(n: NetworkRecord | undefined, id: string): Record<string, unknown> {
  if (!n) return { ID: id };
  return {
    ID: n.id,
    Version: { Index: 1 },
    CreatedAt: n.created,
    UpdatedAt: n.created,
    Spec: {
      Name: n.name,
      Labels: n.labels,
      DriverConfiguration: { Name: n.driver },
      Scope: 'swarm',
      ...(n.attachable ? { Attachable: true } : {}),
      ...(n.ingress ? { Ingress: true } : {}),
      IPAMOptions: { Driver: { Name: n.ipam.driver }, Configs: n.ipam.pools.map((p) => ({ Subnet: p.subnet, Gateway: p.gateway })) },
    },
    DriverState: { Name: n.driver, Options: n.options },
    IPAMOptions: { Driver: { Name: n.ipam.driver }, Configs: n.ipam.pools.map((p) => ({ Subnet: p.subnet, Gateway: p.gateway })) },
  };
}

export function taskShape(t: TaskView, networks: ReadonlyMap<string, NetworkRecord>): Record<string, unknown> {
  const r = t.record;
  const word = t.status ?? r.orchestratorStatus ?? { state: 'new', message: 'created', timestamp: r.createdAt };
  const agent = t.status;
  return {
    ID: r.id,
    Version: { Index: t.version },
    CreatedAt: r.createdAt,
    UpdatedAt: r.updatedAt,
    Labels: {},
    Spec: taskSpecShape(r.spec),
    ServiceID: r.serviceId,
    ...(r.slot !== undefined ? { Slot: r.slot } : {}),
    ...(r.nodeId !== '' ? { NodeID: r.nodeId } : {}),
    Status: {
      Timestamp: word.timestamp,
      State: word.state,
      Message: word.message,
      ...(word.err ? { Err: word.err } : {}),
      ...(agent?.containerId ? { ContainerStatus: { ContainerID: agent.containerId, PID: agent.pid ?? 0, ExitCode: agent.exitCode ?? 0 } } : {}),
      PortStatus: {},
    },
    DesiredState: r.desiredState,
    ...(agent && agent.networks.length > 0
      ? { NetworksAttachments: agent.networks.map((n) => ({ Network: networkShape(networks.get(n.networkId), n.networkId), Addresses: n.addresses })) }
      : {}),
  };
}
