/**
 * Docker's ServiceSpec read at the edge (POST /services/create and /update): typed, with
 * dockerd's and swarmkit's refusals in their words (swarmkit's reach the client as
 * "rpc error: code = InvalidArgument desc = …"). Fields berth does not use are kept as
 * given: inspect shows the spec back.
 */
import { invalid } from '../../errors.js';
import { parseConstraints } from '../../cluster/services/placement.js';
import type { ContainerSpec, EndpointSpec, NetworkAttachment, PortConfig, RestartPolicy, ServiceMode, ServiceSpec, TaskSpec, UpdateConfig } from '../../cluster/services/model.js';
import { generateName } from '../../engine/containers/names.js';
import { asObject, commandList, field, objectField, objectList, optBool, optNumber, optString, stringList, stringMap, type WireObject } from '../wire.js';

const DNS_NAME = /^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$/;

const rpc = (text: string): Error => invalid(`rpc error: code = InvalidArgument desc = ${text}`);

export function parseServiceSpec(body: unknown): ServiceSpec {
  const o = asObject(body, 'service spec');
  const name = optString(o, 'Name') || generateName(0);
  if (!DNS_NAME.test(name)) throw rpc('name must be valid as a DNS name component');
  if (name.length > 63) throw rpc('name must be 63 characters or fewer');
  const spec: ServiceSpec = {
    Name: name,
    Labels: stringMap(o, 'Labels'),
    TaskTemplate: taskSpec(objectField(o, 'TaskTemplate')),
    Mode: mode(objectField(o, 'Mode')),
  };
  const update = field(o, 'UpdateConfig');
  if (update) spec.UpdateConfig = updateConfig(asObject(update, 'UpdateConfig'));
  const rollback = field(o, 'RollbackConfig');
  if (rollback) spec.RollbackConfig = updateConfig(asObject(rollback, 'RollbackConfig'));
  const endpoint = field(o, 'EndpointSpec');
  if (endpoint) spec.EndpointSpec = endpointSpec(asObject(endpoint, 'EndpointSpec'));
  // The old place of a service's networks (API < 1.25) is moved into the task's, as dockerd does.
  const legacy = objectList(o, 'Networks');
  if (legacy.length > 0 && (spec.TaskTemplate.Networks ?? []).length === 0) spec.TaskTemplate.Networks = legacy.map(networkAttachment);
  return spec;
}

function mode(o: WireObject): ServiceMode {
  if (field(o, 'ReplicatedJob') || field(o, 'GlobalJob')) throw invalid('berth does not run swarm jobs (--mode replicated-job, global-job)');
  const replicated = field(o, 'Replicated');
  const global = field(o, 'Global');
  if (replicated && global) throw invalid('must specify only one service mode');
  if (global) return { Global: {} };
  const replicas = optNumber(asObject(replicated, 'Replicated'), 'Replicas');
  if (replicas !== undefined && (replicas < 0 || !Number.isInteger(replicas))) throw rpc('Number of replicas must be non-negative');
  return { Replicated: { Replicas: replicas ?? 1 } };
}

function taskSpec(o: WireObject): TaskSpec {
  const runtime = optString(o, 'Runtime') ?? '';
  if (runtime !== '' && runtime !== 'container') throw invalid(`unsupported runtime type: "${runtime}"`);
  const t: TaskSpec = { ContainerSpec: containerSpec(objectField(o, 'ContainerSpec')) };
  const resources = field(o, 'Resources');
  if (resources) t.Resources = asObject(resources, 'Resources');
  const restart = field(o, 'RestartPolicy');
  if (restart) t.RestartPolicy = restartPolicy(asObject(restart, 'RestartPolicy'));
  const placement = field(o, 'Placement');
  if (placement) {
    const p = asObject(placement, 'Placement');
    const constraints = stringList(p, 'Constraints');
    parseConstraints(constraints);
    const maxReplicas = optNumber(p, 'MaxReplicas');
    t.Placement = { ...(constraints.length > 0 ? { Constraints: constraints } : {}), ...(maxReplicas ? { MaxReplicas: maxReplicas } : {}) };
    const prefs = field(p, 'Preferences');
    if (Array.isArray(prefs) && prefs.length > 0) t.Placement.Preferences = prefs;
  }
  const networks = objectList(o, 'Networks').map(networkAttachment);
  if (networks.length > 0) t.Networks = networks;
  const logDriver = field(o, 'LogDriver');
  if (logDriver) {
    const l = asObject(logDriver, 'LogDriver');
    t.LogDriver = { Name: optString(l, 'Name') ?? '', Options: stringMap(l, 'Options') };
  }
  t.ForceUpdate = optNumber(o, 'ForceUpdate') ?? 0;
  return t;
}

function containerSpec(o: WireObject): ContainerSpec {
  const image = optString(o, 'Image') ?? '';
  if (image === '') throw rpc('ContainerSpec: image reference must be provided');
  if (/\s|[A-Z]/.test(image.split('@')[0]!.split('/').pop()!.split(':')[0]!)) throw rpc(`ContainerSpec: "${image}" is not a valid repository/tag`);
  const c: ContainerSpec = { Image: image };
  const labels = stringMap(o, 'Labels');
  if (Object.keys(labels).length > 0) c.Labels = labels;
  const command = commandList(o, 'Command');
  if (command.length > 0) c.Command = command;
  const args = commandList(o, 'Args');
  if (args.length > 0) c.Args = args;
  for (const key of ['Hostname', 'Dir', 'User', 'StopSignal'] as const) {
    const v = optString(o, key);
    if (v) c[key] = v;
  }
  const env = stringList(o, 'Env');
  if (env.length > 0) c.Env = env;
  const mounts = objectList(o, 'Mounts');
  const targets = new Set<string>();
  for (const m of mounts) {
    const target = optString(m, 'Target') ?? '';
    if (targets.has(target)) throw rpc(`ContainerSpec: duplicate mount point: ${target}`);
    targets.add(target);
  }
  if (mounts.length > 0) c.Mounts = mounts as Record<string, unknown>[];
  const grace = optNumber(o, 'StopGracePeriod');
  if (grace !== undefined) c.StopGracePeriod = grace;
  for (const key of ['TTY', 'OpenStdin', 'Init'] as const) {
    const v = optBool(o, key);
    if (v !== undefined) c[key] = v;
  }
  const health = field(o, 'Healthcheck');
  if (health) c.Healthcheck = asObject(health, 'Healthcheck');
  return c;
}

function restartPolicy(o: WireObject): RestartPolicy {
  const condition = optString(o, 'Condition') ?? '';
  if (condition !== '' && !['none', 'on-failure', 'any'].includes(condition)) throw invalid(`invalid RestartCondition: "${condition}"`);
  const r: RestartPolicy = {};
  if (condition !== '') r.Condition = condition as RestartPolicy['Condition'];
  const delay = optNumber(o, 'Delay');
  if (delay !== undefined) {
    if (delay < 0) throw rpc('TaskSpec: restart-delay cannot be negative');
    r.Delay = delay;
  }
  const max = optNumber(o, 'MaxAttempts');
  if (max !== undefined) r.MaxAttempts = max;
  const window = optNumber(o, 'Window');
  if (window !== undefined) {
    if (window < 0) throw rpc('TaskSpec: restart-window cannot be negative');
    r.Window = window;
  }
  return r;
}

function updateConfig(o: WireObject): UpdateConfig {
  const u: UpdateConfig = {};
  const parallelism = optNumber(o, 'Parallelism');
  if (parallelism !== undefined) u.Parallelism = parallelism;
  const delay = optNumber(o, 'Delay');
  if (delay !== undefined) {
    if (delay < 0) throw rpc('TaskSpec: update-delay cannot be negative');
    u.Delay = delay;
  }
  const action = optString(o, 'FailureAction') ?? '';
  if (action !== '' && !['continue', 'pause', 'rollback'].includes(action)) throw invalid(`unrecognized update failure action ${action}`);
  if (action !== '') u.FailureAction = action as UpdateConfig['FailureAction'];
  const monitor = optNumber(o, 'Monitor');
  if (monitor !== undefined) {
    if (monitor < 0) throw rpc('TaskSpec: update-monitor cannot be negative');
    u.Monitor = monitor;
  }
  const ratio = optNumber(o, 'MaxFailureRatio');
  if (ratio !== undefined) {
    if (ratio < 0 || ratio > 1) throw rpc('TaskSpec: update-maxfailureratio cannot be less than 0 or bigger than 1');
    u.MaxFailureRatio = ratio;
  }
  const order = optString(o, 'Order') ?? '';
  if (order !== '' && order !== 'stop-first' && order !== 'start-first') throw invalid(`unrecognized update order ${order}`);
  if (order !== '') u.Order = order as UpdateConfig['Order'];
  return u;
}

function networkAttachment(o: WireObject): NetworkAttachment {
  const target = optString(o, 'Target') ?? '';
  const aliases = stringList(o, 'Aliases');
  const opts = stringMap(o, 'DriverOpts');
  return { Target: target, ...(aliases.length > 0 ? { Aliases: aliases } : {}), ...(Object.keys(opts).length > 0 ? { DriverOpts: opts } : {}) };
}

function endpointSpec(o: WireObject): EndpointSpec {
  const modeName = optString(o, 'Mode') ?? '';
  if (modeName !== '' && modeName !== 'vip' && modeName !== 'dnsrr') throw invalid(`invalid resolution mode: "${modeName}"`);
  const ports: PortConfig[] = objectList(o, 'Ports').map((p) => {
    const protocol = optString(p, 'Protocol') || 'tcp';
    if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw invalid(`invalid protocol: "${protocol}"`);
    const publishMode = optString(p, 'PublishMode') || 'ingress';
    if (publishMode !== 'ingress' && publishMode !== 'host') throw invalid(`invalid publish mode: "${publishMode}"`);
    const target = optNumber(p, 'TargetPort') ?? 0;
    const published = optNumber(p, 'PublishedPort') ?? 0;
    const name = optString(p, 'Name');
    return {
      ...(name ? { Name: name } : {}),
      Protocol: protocol as PortConfig['Protocol'],
      TargetPort: target,
      ...(published ? { PublishedPort: published } : {}),
      PublishMode: publishMode,
    };
  });
  const seen = new Set<string>();
  for (const p of ports) {
    if (modeName === 'dnsrr' && p.PublishMode === 'ingress') throw rpc("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
    if (!p.PublishedPort) continue;
    const key = `${p.Protocol}/${p.PublishedPort}`;
    if (seen.has(key)) throw rpc('EndpointSpec: duplicate published ports provided');
    seen.add(key);
  }
  return { Mode: (modeName || 'vip') as EndpointSpec['Mode'], ...(ports.length > 0 ? { Ports: ports } : {}) };
}
