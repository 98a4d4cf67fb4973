/**
 * A task's container as Docker's executor makes it (pure): its name
 * `<service>.<slot>.<task id>` (global: `<service>.<node id>.<task id>`), Docker's task
 * labels beside the spec's own, the ContainerSpec as a container create body (image,
 * command and args, env, hostname, dir, user, mounts, stop signal and grace, labels,
 * init, tty), the task's networks (and the ingress network when the service publishes a
 * port there), host-mode ports published like `-p`.
 */
import { TASK_LABELS, type PortConfig, type TaskRecord } from './model.js';

export interface TaskContainerConfig {
  name: string;
  /** Docker's container create body (Config with HostConfig and NetworkingConfig). */
  body: Record<string, unknown>;
}

export function taskName(serviceName: string, t: TaskRecord): string {
  return `${serviceName}.${t.slot ?? t.nodeId}.${t.id}`;
}

export function taskContainer(t: TaskRecord, service: { id: string; name: string; ports: readonly PortConfig[] }, ingressNetworkId: string | undefined): TaskContainerConfig {
  const c = t.spec.ContainerSpec;
  const name = taskName(service.name, t);
  const labels: Record<string, string> = {
    ...c.Labels,
    [TASK_LABELS.serviceId]: service.id,
    [TASK_LABELS.serviceName]: service.name,
    [TASK_LABELS.taskId]: t.id,
    [TASK_LABELS.taskName]: name,
    [TASK_LABELS.nodeId]: t.nodeId,
    [TASK_LABELS.task]: '',
  };
  const networks = (t.spec.Networks ?? []).map((n) => ({ id: n.Target, aliases: n.Aliases ?? [] }));
  if (ingressNetworkId && service.ports.some((p) => p.PublishMode === 'ingress')) networks.unshift({ id: ingressNetworkId, aliases: [] });
  const hostPorts = service.ports.filter((p) => p.PublishMode === 'host');
  const portBindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  const exposed: Record<string, Record<string, never>> = {};
  for (const p of hostPorts) {
    const key = `${p.TargetPort}/${p.Protocol}`;
    exposed[key] = {};
    portBindings[key] = [...(portBindings[key] ?? []), { HostIp: '', HostPort: p.PublishedPort ? String(p.PublishedPort) : '' }];
  }
  const body: Record<string, unknown> = {
    Image: c.Image,
    Hostname: c.Hostname ?? '',
    Env: c.Env ?? [],
    Cmd: c.Args ?? null,
    Entrypoint: c.Command ?? null,
    WorkingDir: c.Dir ?? '',
    User: c.User ?? '',
    Tty: c.TTY ?? false,
    OpenStdin: c.OpenStdin ?? false,
    Labels: labels,
    ExposedPorts: exposed,
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
    // Seconds; swarmkit's default grace is 10 s.
    StopTimeout: Math.round((c.StopGracePeriod ?? 10_000_000_000) / 1e9),
    ...(c.Healthcheck ? { Healthcheck: c.Healthcheck } : {}),
    HostConfig: {
      Mounts: c.Mounts ?? [],
      PortBindings: portBindings,
      ...(c.Init !== undefined ? { Init: c.Init } : {}),
      ...(networks[0] ? { NetworkMode: networks[0].id } : {}),
      ...(t.spec.LogDriver?.Name ? { LogConfig: { Type: t.spec.LogDriver.Name, Config: t.spec.LogDriver.Options ?? {} } } : {}),
    },
    NetworkingConfig: { EndpointsConfig: Object.fromEntries(networks.map((n) => [n.id, { Aliases: n.aliases }])) },
  };
  return { name, body };
}
