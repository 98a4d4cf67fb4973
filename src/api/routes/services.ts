/**
 * /services and /tasks: the swarm's services and their tasks, as a manager serves them
 * (dockerd's swarm router over swarmkit's control API). Each request is checked as
 * dockerd checks it before the node is asked, so outside a swarm or on a worker the
 * answer is dockerd's 503.
 */
import { invalid } from '../../errors.js';
import type { Manager } from '../../cluster/manager.js';
import { replicasOf, upToDate } from '../../cluster/services/reconcile.js';
import type { TaskView } from '../../cluster/services/services.js';
import type { ServiceRecord } from '../../cluster/services/model.js';
import type { SwarmState } from '../../cluster/swarm-state.js';
import type { NetworkRecord } from '../../network/model.js';
import type { ApiRequest, Reply, Router } from '../router.js';
import { serviceShape, taskShape, type ServiceStatusShape } from '../shapes/services.js';
import { boolParam, parseFilters } from '../wire.js';
import { parseServiceSpec } from './service-spec.js';

/** A check of a request, made before the node is asked (dockerd's router-side validation). */
export type RequestCheck = (req: ApiRequest) => Promise<void>;

export interface ServiceRouteChecks {
  filters: RequestCheck;
  status: RequestCheck;
  insertDefaults: RequestCheck;
  jsonBody: RequestCheck;
  version: RequestCheck;
  logStreams: RequestCheck;
}

const SERVICE_FILTERS = new Set(['id', 'label', 'mode', 'name', 'runtime']);
const TASK_FILTERS = new Set(['name', 'id', 'label', 'service', 'node', 'desired-state', '_up-to-date', 'runtime']);
const DESIRED = new Set(['new', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned']);

/** A request's body, read once: the checks before the handler read it too. */
const bodies = new WeakMap<ApiRequest, Promise<unknown>>();
export async function bodyOnce(req: ApiRequest): Promise<unknown> {
  let body = bodies.get(req);
  if (!body) {
    body = req.json();
    bodies.set(req, body);
  }
  return body;
}

export function serviceRoutes(router: Router, swarm: SwarmState, checks: ServiceRouteChecks, localNetwork: (ref: string) => string | undefined): void {
  const managed =
    (f: (m: Manager, req: ApiRequest) => Promise<Reply>, ...before: RequestCheck[]) =>
    async (req: ApiRequest): Promise<Reply> => {
      for (const check of before) await check(req);
      return f(swarm.managerOrThrow(), req);
    };
  router
    .add('GET', '/services', managed(async (m, req) => {
      const filters = parseFilters(req.query.get('filters'));
      for (const key of Object.keys(filters)) if (!SERVICE_FILTERS.has(key)) throw invalid(`invalid filter '${key}'`);
      const services = (await m.services.list()).filter((s) => serviceMatches(s.record, filters));
      const withStatus = boolParam(req.query, 'status');
      const tasks = withStatus ? await m.services.tasks() : [];
      const ready = withStatus ? new Set((await m.nodes()).filter((n) => n.ready).map((n) => n.record.id)) : new Set<string>();
      return { status: 200, body: services.map((s) => serviceShape(s.record, s.version, withStatus ? { status: serviceStatus(s.record, tasks, ready) } : {})) };
    }, checks.filters, checks.status))
    .add('GET', '/services/{id}', managed(async (m, req) => {
      const s = await m.services.get(req.params.id!);
      return { status: 200, body: serviceShape(s.record, s.version, { insertDefaults: boolParam(req.query, 'insertDefaults') }) };
    }, checks.insertDefaults))
    .add('POST', '/services/create', managed(async (m, req) => {
      const spec = parseServiceSpec(await bodyOnce(req));
      const s = await m.services.create(spec, localNetwork, pullAuth(req));
      return { status: 201, body: { ID: s.id } };
    }, checks.jsonBody))
    .add('POST', '/services/{id}/update', managed(async (m, req) => {
      const spec = parseServiceSpec(await bodyOnce(req));
      const rollback = req.query.get('rollback') ?? '';
      if (rollback !== '' && rollback !== 'previous') throw invalid(`unrecognized rollback option ${rollback}`);
      await m.services.update(req.params.id!, Number(req.query.get('version')), spec, rollback === 'previous', localNetwork, pullAuth(req));
      return { status: 200, body: {} };
    }, checks.jsonBody, checks.version))
    .add('DELETE', '/services/{id}', managed(async (m, req) => {
      await m.services.remove(req.params.id!);
      return { status: 200 };
    }))
    .add('GET', '/tasks', managed(async (m, req) => {
      const filters = parseFilters(req.query.get('filters'));
      for (const key of Object.keys(filters)) if (!TASK_FILTERS.has(key)) throw invalid(`invalid filter '${key}'`);
      for (const s of filters['desired-state'] ?? []) if (s !== '' && !DESIRED.has(s.toLowerCase())) throw invalid(`Invalid desired-state filter: '${s}'`);
      // Services and nodes named by name or prefix are resolved first, as dockerd does.
      const serviceIds = filters.service ? await Promise.all(filters.service.map(async (ref) => (await m.services.get(ref)).record.id)) : undefined;
      const nodeIds = filters.node ? await Promise.all(filters.node.map(async (ref) => (await m.node(ref)).record.id)) : undefined;
      const services = new Map((await m.services.list()).map((s) => [s.record.id, s.record]));
      const tasks = (await m.services.tasks()).filter((t) => taskMatches(t, filters, { serviceIds, nodeIds, services }));
      const networks = await networkMap(m);
      return { status: 200, body: tasks.map((t) => taskShape(t, networks)) };
    }, checks.filters))
    .add('GET', '/tasks/{id}', managed(async (m, req) => {
      const t = await m.services.task(req.params.id!);
      return { status: 200, body: taskShape(t, await networkMap(m)) };
    }));
}

/** X-Registry-Auth as it came (`--with-registry-auth`): stored for the nodes' pulls. */
function pullAuth(req: ApiRequest): string | undefined {
  const header = req.raw.headers['x-registry-auth'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

async function networkMap(m: Manager): Promise<Map<string, NetworkRecord>> {
  return new Map((await m.services.networks()).map((n) => [n.id, n]));
}

function labelsMatch(values: readonly string[] | undefined, labels: Record<string, string>): boolean {
  return (values ?? []).every((v) => {
    const eq = v.indexOf('=');
    return eq < 0 ? v in labels : labels[v.slice(0, eq)] === v.slice(eq + 1);
  });
}

function serviceMatches(s: ServiceRecord, f: Record<string, string[]>): boolean {
  const mode = 'Global' in (s.spec.Mode ?? {}) ? 'global' : 'replicated';
  return (
    (f.id === undefined || f.id.some((v) => s.id.startsWith(v))) &&
    (f.name === undefined || f.name.some((v) => s.spec.Name.startsWith(v))) &&
    (f.mode === undefined || f.mode.includes(mode)) &&
    (f.runtime === undefined || f.runtime.includes('container')) &&
    labelsMatch(f.label, s.spec.Labels ?? {})
  );
}

function taskMatches(t: TaskView, f: Record<string, string[]>, ctx: { serviceIds: string[] | undefined; nodeIds: string[] | undefined; services: Map<string, ServiceRecord> }): boolean {
  const r = t.record;
  const service = ctx.services.get(r.serviceId);
  const name = service ? `${service.spec.Name}.${r.slot ?? r.nodeId}` : '';
  return (
    (ctx.serviceIds === undefined || ctx.serviceIds.includes(r.serviceId)) &&
    (ctx.nodeIds === undefined || ctx.nodeIds.includes(r.nodeId)) &&
    (f.id === undefined || f.id.some((v) => r.id.startsWith(v))) &&
    (f.name === undefined || f.name.some((v) => name.startsWith(v))) &&
    (f['desired-state'] === undefined || f['desired-state'].some((v) => v.toLowerCase() === r.desiredState)) &&
    (f['_up-to-date'] === undefined || (service !== undefined && upToDate(r, service) && r.desiredState === 'running')) &&
    labelsMatch(f.label, {})
  );
}

/** swarmkit's ListServiceStatuses: tasks meant to run that do, against the replicas asked (global: the tasks meant to run on live nodes). */
function serviceStatus(s: ServiceRecord, tasks: readonly TaskView[], ready: ReadonlySet<string>): ServiceStatusShape {
  const mine = tasks.filter((t) => t.record.serviceId === s.id);
  const meant = mine.filter((t) => t.record.desiredState === 'running');
  const running = meant.filter((t) => t.status?.state === 'running' && ready.has(t.record.nodeId)).length;
  const completed = mine.filter((t) => t.status?.state === 'complete').length;
  const desired = 'Global' in (s.spec.Mode ?? {}) ? meant.filter((t) => ready.has(t.record.nodeId)).length : replicasOf(s);
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed };
}
