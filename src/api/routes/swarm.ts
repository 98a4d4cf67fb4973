/**
 * Swarm mode's endpoints, as dockerd's swarm router has them: the swarm itself, nodes,
 * services, tasks, secrets and configs. Each checks its request as dockerd does (JSON
 * body, version and flag parameters, filters) before it asks this node's SwarmState, so
 * the answers outside a swarm are dockerd's: 503 "not part of a swarm" for leave, 503
 * "not a swarm manager" for anything on the cluster's state.
 */
import { invalid, notImplemented } from '../../errors.js';
import type { SwarmState, SwarmStatus } from '../../cluster/swarm-state.js';
import type { ApiRequest, Reply, Router } from '../router.js';
import { compareVersions } from '../router.js';
import { asObject, boolParam, parseFilters } from '../wire.js';

/** A check of a request, made before the node is asked (dockerd's router-side validation). */
type RequestCheck = (req: ApiRequest) => Promise<void>;

export function swarmRoutes(router: Router, swarm: SwarmState): void {
  // A request on the cluster's state: the request's checks, then a manager's answer.
  const managed =
    (...checks: RequestCheck[]) =>
    async (req: ApiRequest): Promise<Reply> => {
      for (const check of checks) await check(req);
      swarm.requireManager();
      throw notImplemented('berth does not run swarm mode yet');
    };
  router
    .add('POST', '/swarm/init', async (req) => {
      await jsonBody(req);
      return { status: 200, body: await swarm.init() };
    })
    .add('POST', '/swarm/join', async (req) => {
      await jsonBody(req);
      await swarm.join();
      return { status: 200 };
    })
    .add('POST', '/swarm/leave', async (req) => {
      await swarm.leave(boolParam(req.query, 'force'));
      return { status: 200 };
    })
    .add('GET', '/swarm', managed())
    .add('GET', '/swarm/unlockkey', managed())
    .add('POST', '/swarm/update', managed(jsonBody, versionParam('invalid swarm version'), rotateFlags))
    .add('POST', '/swarm/unlock', async (req) => {
      const body = asObject(await req.json(), 'unlock request');
      await swarm.unlock(typeof body.UnlockKey === 'string' ? body.UnlockKey : '');
      return { status: 200 };
    })
    .add('GET', '/services', managed(filters, serviceStatusParam))
    .add('GET', '/services/{id}', managed(boolQuery('insertDefaults')))
    .add('POST', '/services/create', managed(jsonBody))
    .add('POST', '/services/{id}/update', managed(jsonBody, versionParam('invalid service version')))
    .add('DELETE', '/services/{id}', managed())
    .add('GET', '/services/{id}/logs', managed(logStreams))
    .add('GET', '/nodes', managed(filters))
    .add('GET', '/nodes/{id}', managed())
    .add('DELETE', '/nodes/{id}', managed())
    .add('POST', '/nodes/{id}/update', managed(jsonBody, versionParam('invalid node version')))
    .add('GET', '/tasks', managed(filters))
    .add('GET', '/tasks/{id}', managed())
    .add('GET', '/tasks/{id}/logs', managed(logStreams));
  for (const kind of ['secret', 'config'] as const) {
    router
      .add('GET', `/${kind}s`, managed(filters))
      .add('POST', `/${kind}s/create`, managed(jsonBody))
      .add('DELETE', `/${kind}s/{id}`, managed())
      .add('GET', `/${kind}s/{id}`, managed())
      .add('POST', `/${kind}s/{id}/update`, managed(jsonBody, bareVersionParam(`invalid ${kind} version`)));
  }
}

/** The Swarm header of /_ping: the node's state, with its role once it is in a swarm. */
export function swarmHeader(s: SwarmStatus): string {
  return s.state === 'active' ? `active/${s.controlAvailable ? 'manager' : 'worker'}` : s.state;
}

/** The Swarm block of /info (Docker's swarm.Info). */
export function swarmInfoShape(s: SwarmStatus): Record<string, unknown> {
  return { NodeID: s.nodeId, NodeAddr: s.nodeAddr, LocalNodeState: s.state, ControlAvailable: s.controlAvailable, Error: s.error, RemoteManagers: null };
}

async function jsonBody(req: ApiRequest): Promise<void> {
  asObject(await req.json(), 'request body');
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
function goParseBool(v: string): boolean | undefined {
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
