/**
 * Swarm mode's endpoints, as dockerd's swarm router has them: the swarm itself, nodes,
 * services, tasks, secrets and configs. Each checks its request as dockerd does (JSON
 * body, version and flag parameters, filters) before it asks this node's SwarmState, so
 * the answers outside a swarm are dockerd's: 503 "not part of a swarm" for leave, 503
 * "not a swarm manager" for anything on the cluster's state.
 */
import { invalid, notImplemented } from '../../errors.js';
import type { Availability, SwarmSpec } from '../../cluster/model.js';
import { DEFAULT_SPEC } from '../../cluster/swarm.js';
import type { InitRequest, JoinRequest, SwarmState, SwarmStatus } from '../../cluster/swarm-state.js';
import type { ApiRequest, Reply, Router } from '../router.js';
import { compareVersions } from '../router.js';
import { RAFT, swarmShape } from '../shapes/swarm.js';
import { asObject, boolParam, field, objectField, optBool, optNumber, optString, parseFilters, stringList, stringMap, type WireObject } from '../wire.js';
import { nodeRoutes } from './nodes.js';
import { serviceLogsHandler } from './service-logs.js';
import { bodyOnce, serviceRoutes } from './services.js';

/** A check of a request, made before the node is asked (dockerd's router-side validation). */
type RequestCheck = (req: ApiRequest) => Promise<void>;

/** `localNetwork`: the name of a network of this daemon's own (not the swarm's) that `ref` names, to word dockerd's refusal of it for a service. */
export function swarmRoutes(router: Router, swarm: SwarmState, localNetwork: (ref: string) => string | undefined = () => undefined): void {
  // A request on the cluster's state berth does not serve yet (secrets, configs).
  const managed =
    (...checks: RequestCheck[]) =>
    async (req: ApiRequest): Promise<Reply> => {
      for (const check of checks) await check(req);
      swarm.requireManager();
      throw notImplemented('berth does not run swarm services yet');
    };
  router
    .add('POST', '/swarm/init', async (req) => ({ status: 200, body: await swarm.init(parseInit(await jsonObject(req))) }))
    .add('POST', '/swarm/join', async (req) => {
      await swarm.join(parseJoin(await jsonObject(req)));
      return { status: 200 };
    })
    .add('POST', '/swarm/leave', async (req) => {
      await swarm.leave(boolParam(req.query, 'force'));
      return { status: 200 };
    })
    .add('GET', '/swarm', async () => {
      const m = swarm.managerOrThrow();
      const c = await m.cluster();
      return { status: 200, body: swarmShape(c, c.tokens) };
    })
    .add('GET', '/swarm/unlockkey', async () => {
      swarm.managerOrThrow();
      return { status: 200, body: { UnlockKey: '' } };
    })
    .add('POST', '/swarm/update', async (req) => {
      const body = await jsonObject(req);
      await versionParam('invalid swarm version')(req);
      await rotateFlags(req);
      const m = swarm.managerOrThrow();
      if (goParseBool(req.query.get('rotateManagerUnlockKey') ?? '') === true) throw invalid('cannot rotate because autolock is not turned on');
      const rotate = { worker: goParseBool(req.query.get('rotateWorkerToken') ?? '') === true, manager: goParseBool(req.query.get('rotateManagerToken') ?? '') === true };
      await m.updateCluster(Number(req.query.get('version')), parseSwarmSpec(body), rotate);
      return { status: 200 };
    })
    .add('POST', '/swarm/unlock', async (req) => {
      const body = asObject(await req.json(), 'unlock request');
      await swarm.unlock(typeof body.UnlockKey === 'string' ? body.UnlockKey : '');
      return { status: 200 };
    })
    .add('GET', '/services/{id}/logs', serviceLogsHandler(swarm, 'service', logStreams))
    .add('GET', '/tasks/{id}/logs', serviceLogsHandler(swarm, 'task', logStreams));
  serviceRoutes(
    router,
    swarm,
    { filters, status: serviceStatusParam, insertDefaults: boolQuery('insertDefaults'), jsonBody, version: versionParam('invalid service version'), logStreams },
    localNetwork,
  );
  nodeRoutes(router, swarm, { versionParam: versionParam('invalid node version'), jsonObject });
  for (const kind of ['secret', 'config'] as const) {
    router
      .add('GET', `/${kind}s`, managed(filters))
      .add('POST', `/${kind}s/create`, managed(jsonBody))
      .add('DELETE', `/${kind}s/{id}`, managed())
      .add('GET', `/${kind}s/{id}`, managed())
      .add('POST', `/${kind}s/{id}/update`, managed(jsonBody, bareVersionParam(`invalid ${kind} version`)));
  }
}

async function jsonObject(req: ApiRequest): Promise<WireObject> {
  return asObject(await req.json(), 'request body');
}

const AVAILABILITY = new Set(['', 'active', 'pause', 'drain']);

function availability(o: WireObject): Availability | '' {
  const a = optString(o, 'Availability') ?? '';
  if (!AVAILABILITY.has(a)) throw invalid(`invalid Availability: "${a}"`);
  return a as Availability | '';
}

/** Docker's InitRequest. */
function parseInit(o: WireObject): InitRequest {
  const spec = parseSwarmSpec(objectField(o, 'Spec'));
  if (optBool(o, 'ForceNewCluster')) throw notImplemented('berth cannot force a new cluster from an old one (--force-new-cluster)');
  if (optBool(o, 'AutoLockManagers')) throw notImplemented('berth does not lock managers (--autolock)');
  return {
    listenAddr: optString(o, 'ListenAddr') ?? '',
    advertiseAddr: optString(o, 'AdvertiseAddr') ?? '',
    dataPathAddr: optString(o, 'DataPathAddr') ?? '',
    dataPathPort: optNumber(o, 'DataPathPort') ?? 0,
    defaultAddrPool: stringList(o, 'DefaultAddrPool'),
    subnetSize: optNumber(o, 'SubnetSize') ?? 0,
    availability: availability(o),
    spec,
  };
}

/** Docker's JoinRequest. */
function parseJoin(o: WireObject): JoinRequest {
  return {
    listenAddr: optString(o, 'ListenAddr') ?? '',
    advertiseAddr: optString(o, 'AdvertiseAddr') ?? '',
    remoteAddrs: stringList(o, 'RemoteAddrs'),
    joinToken: optString(o, 'JoinToken') ?? '',
    dataPathAddr: optString(o, 'DataPathAddr') ?? '',
    availability: availability(o),
  };
}

/**
 * A swarm Spec: at init, merged into swarmkit's defaults; at update, replacing the current
 * one (the defaults again where a field is zero).
 * What berth cannot do is refused by name: Raft settings other than those shown (etcd
 * keeps the state), external CAs, a new root CA, autolock.
 */
function parseSwarmSpec(o: WireObject): SwarmSpec {
  const name = optString(o, 'Name') ?? '';
  if (name !== '' && name !== 'default') throw invalid('swarm spec must be named "default"');
  const ca = objectField(o, 'CAConfig');
  const expiry = optNumber(ca, 'NodeCertExpiry') ?? 0;
  if (expiry !== 0 && expiry < 3_600_000_000_000) throw invalid('rpc error: code = InvalidArgument desc = minimum certificate expiry time is: 1h0m0s');
  const heartbeat = optNumber(objectField(o, 'Dispatcher'), 'HeartbeatPeriod') ?? 0;
  if (heartbeat < 0) throw invalid('rpc error: code = InvalidArgument desc = heartbeat time period cannot be a negative duration');
  if (optBool(objectField(o, 'EncryptionConfig'), 'AutoLockManagers')) throw notImplemented('berth does not lock managers (--autolock)');
  checkRaft(objectField(o, 'Raft'));
  const externalCas = field(ca, 'ExternalCAs');
  if (Array.isArray(externalCas) && externalCas.length > 0) throw notImplemented("berth's managers sign node certificates with the swarm's own CA: external CAs (--external-ca) are not supported");
  if ((optString(ca, 'SigningCACert') ?? '') !== '' || (optString(ca, 'SigningCAKey') ?? '') !== '' || (optNumber(ca, 'ForceRotate') ?? 0) !== 0) {
    throw notImplemented("berth cannot rotate the swarm's root CA (docker swarm ca --rotate)");
  }
  return {
    name: 'default',
    labels: stringMap(o, 'Labels'),
    taskHistoryRetentionLimit: optNumber(objectField(o, 'Orchestration'), 'TaskHistoryRetentionLimit') ?? DEFAULT_SPEC.taskHistoryRetentionLimit,
    nodeCertExpiry: expiry || DEFAULT_SPEC.nodeCertExpiry,
    heartbeatPeriod: heartbeat || DEFAULT_SPEC.heartbeatPeriod,
    autoLockManagers: false,
  };
}

/** Raft settings: zero (the default) or what GET /swarm shows; etcd keeps the state with settings of its own. */
function checkRaft(raft: WireObject): void {
  const flags: Record<keyof typeof RAFT, string> = {
    SnapshotInterval: '--snapshot-interval',
    KeepOldSnapshots: '--max-snapshots',
    LogEntriesForSlowFollowers: 'LogEntriesForSlowFollowers',
    ElectionTick: 'ElectionTick',
    HeartbeatTick: 'HeartbeatTick',
  };
  for (const key of Object.keys(RAFT) as (keyof typeof RAFT)[]) {
    const v = optNumber(raft, key) ?? 0;
    if (v !== 0 && v !== RAFT[key]) throw notImplemented(`berth keeps the swarm's state in etcd, not in swarmkit's Raft: its Raft settings cannot be changed (${flags[key]} ${v})`);
  }
}

/** The Swarm header of /_ping: the node's state, with its role once it is in a swarm. */
export function swarmHeader(s: SwarmStatus): string {
  return s.state === 'active' ? `active/${s.controlAvailable ? 'manager' : 'worker'}` : s.state;
}



async function jsonBody(req: ApiRequest): Promise<void> {
  asObject(await bodyOnce(req), 'request body');
}

async function filters(req: ApiRequest): Promise<void> {
  parseFilters(req.query.get('filters'));
}

/** The version a change is made against: a Go uint64, worded as dockerd's ParseUint error. */
function versionParam(prefix: string): RequestCheck {
  return async (req) => {
    const raw = req.query.get('version') ?? '';
    const problem = goParseUintProblem(raw);
    if (problem !== undefined) throw invalid(`${prefix} '${raw}': ${problem}`);
  };
}

/** As versionParam, for the endpoints where dockerd gives no detail (secrets, configs). */
function bareVersionParam(message: string): RequestCheck {
  return async (req) => {
    if (goParseUintProblem(req.query.get('version') ?? '') !== undefined) throw invalid(message);
  };
}

async function rotateFlags(req: ApiRequest): Promise<void> {
  for (const flag of ['rotateWorkerToken', 'rotateManagerToken', 'rotateManagerUnlockKey']) {
    const value = req.query.get(flag) ?? '';
    if (value !== '' && goParseBool(value) === undefined) throw invalid(`invalid value for ${flag}: ${value}`);
  }
}

/** `status` on a service list, read from API 1.41 on (older clients' is ignored). */
async function serviceStatusParam(req: ApiRequest): Promise<void> {
  if (compareVersions(req.version, '1.41') < 0) return;
  await boolQuery('status')(req);
}

function boolQuery(key: string): RequestCheck {
  return async (req) => {
    const value = req.query.get(key) ?? '';
    if (value !== '' && goParseBool(value) === undefined) {
      throw invalid(`invalid value for ${key}: ${value}: strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    }
  };
}

async function logStreams(req: ApiRequest): Promise<void> {
  if (!boolParam(req.query, 'stdout') && !boolParam(req.query, 'stderr')) throw invalid('Bad parameters: you must choose at least one stream');
}

/** Go's strconv.ParseBool. */
export function goParseBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** What Go's strconv.ParseUint(v, 10, 64) says of `v`, or undefined when it parses. */
function goParseUintProblem(v: string): string | undefined {
  if (!/^[0-9]+$/.test(v)) return `strconv.ParseUint: parsing ${JSON.stringify(v)}: invalid syntax`;
  if (BigInt(v) > 0xffffffffffffffffn) return `strconv.ParseUint: parsing ${JSON.stringify(v)}: value out of range`;
  return undefined;
}
