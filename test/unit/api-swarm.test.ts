import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { httpStatusOf } from '../../src/api/errors.js';
import { Router, type ApiRequest } from '../../src/api/router.js';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { swarmHeader, swarmRoutes } from '../../src/api/routes/swarm.js';
import { swarmInfoShape } from '../../src/api/shapes/swarm.js';
import { SwarmNode } from '../../src/cluster/swarm.js';
import { FakeKernel } from '../lib/fake-kernel.js';
import { invalid, messageOf } from '../../src/errors.js';

const NO_SWARM = 'This node is not part of a swarm';

/** The folder the nodes outside a swarm get (they keep nothing in it). */
const nodesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-swarm-'));
after(() => fs.rmSync(nodesDir, { recursive: true, force: true }));

/** A node outside any swarm. */
function outside(): SwarmNode {
  return SwarmNode.open({ dir: path.join(nodesDir, 'cluster'), dataPathNetns: path.join(nodesDir, 'data-path.netns'), kernel: new FakeKernel(), log: () => undefined, hostname: 'h', engineVersion: '0' });
}
const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

/** A request through the swarm routes of an inactive node: its status and message. */
async function call(method: string, url: string, body: string = '', version = '1.44'): Promise<{ status: number; message: string }> {
  const router = new Router();
  swarmRoutes(router, outside());
  const u = new URL(url, 'http://berth');
  const found = router.match(method, u.pathname);
  if (typeof found !== 'object') return { status: found === 'not-found' ? 404 : 405, message: found };
  const req = {
    method,
    path: u.pathname,
    params: found.params,
    query: u.searchParams,
    version,
    json: async () => {
      if (body === '') return {};
      try {
        return JSON.parse(body) as unknown;
      } catch (e: unknown) {
        throw invalid(`invalid JSON: ${messageOf(e)}`);
      }
    },
    drain: async () => undefined,
  } as unknown as ApiRequest;
  try {
    const reply = await found.handler(req);
    return { status: 'status' in reply ? reply.status : 0, message: '' };
  } catch (e: unknown) {
    return { status: httpStatusOf(e), message: messageOf(e) };
  }
}

describe('swarm endpoints on a node outside a swarm', () => {
  it("answers leave with dockerd's errNoSwarm, everything on the cluster's state with its not-a-manager error", async () => {
    assert.deepEqual(await call('POST', '/swarm/leave?force=1'), { status: 503, message: NO_SWARM });
    const managerOnly: [string, string, string?][] = [
      ['GET', '/swarm'],
      ['GET', '/swarm/unlockkey'],
      ['POST', '/swarm/update?version=1', '{}'],
      ['POST', '/swarm/unlock', '{"UnlockKey":"SWMKEY-1-x"}'],
      ['GET', '/nodes'],
      ['GET', '/nodes/n1'],
      ['DELETE', '/nodes/n1?force=1'],
      ['POST', '/nodes/n1/update?version=3', '{}'],
      ['GET', '/services'],
      ['GET', '/services/web?insertDefaults=true'],
      ['POST', '/services/create', '{"Name":"web"}'],
      ['POST', '/services/web/update?version=2', '{}'],
      ['DELETE', '/services/web'],
      ['GET', '/services/web/logs?stdout=1'],
      ['GET', '/tasks'],
      ['GET', '/tasks/t1'],
      ['GET', '/tasks/t1/logs?stderr=1'],
      ['GET', '/secrets'],
      ['POST', '/secrets/create', '{"Name":"s"}'],
      ['GET', '/secrets/s1'],
      ['DELETE', '/secrets/s1'],
      ['POST', '/secrets/s1/update?version=1', '{}'],
      ['GET', '/configs'],
      ['POST', '/configs/create', '{"Name":"c"}'],
      ['GET', '/configs/c1'],
      ['DELETE', '/configs/c1'],
      ['POST', '/configs/c1/update?version=1', '{}'],
    ];
    for (const [method, url, body] of managerOnly) {
      assert.deepEqual(await call(method, url, body), { status: 503, message: NOT_MANAGER }, `${method} ${url}`);
    }
  });

  it('checks init and join requests as dockerd does before anything is made', async () => {
    assert.equal((await call('POST', '/swarm/init', '{nope')).status, 400);
    assert.deepEqual(await call('POST', '/swarm/join', '{"RemoteAddrs":[]}'), { status: 400, message: 'at least 1 RemoteAddr is required to join' });
    assert.deepEqual(await call('POST', '/swarm/init', '{"Spec":{"Name":"other"}}'), { status: 400, message: 'swarm spec must be named "default"' });
    // A host with no address to advertise (the fake kernel's has none) gets dockerd's words.
    assert.deepEqual(await call('POST', '/swarm/init', '{"ListenAddr":"0.0.0.0:2377"}'), { status: 400, message: "could not find the system's IP address" });
  });

  it("checks requests first, with dockerd's words", async () => {
    assert.deepEqual(await call('POST', '/swarm/update', '{}'), { status: 400, message: `invalid swarm version '': strconv.ParseUint: parsing "": invalid syntax` });
    assert.deepEqual(await call('POST', '/swarm/update?version=1&rotateWorkerToken=maybe', '{}'), { status: 400, message: 'invalid value for rotateWorkerToken: maybe' });
    assert.deepEqual(await call('POST', '/nodes/n1/update?version=-1', '{}'), { status: 400, message: `invalid node version '-1': strconv.ParseUint: parsing "-1": invalid syntax` });
    assert.deepEqual(await call('POST', '/services/web/update?version=99999999999999999999', '{}'), {
      status: 400,
      message: `invalid service version '99999999999999999999': strconv.ParseUint: parsing "99999999999999999999": value out of range`,
    });
    assert.deepEqual(await call('POST', '/secrets/s1/update?version=x', '{}'), { status: 400, message: 'invalid secret version' });
    assert.deepEqual(await call('POST', '/configs/c1/update', '{}'), { status: 400, message: 'invalid config version' });
    assert.deepEqual(await call('GET', '/services?status=maybe'), { status: 400, message: `invalid value for status: maybe: strconv.ParseBool: parsing "maybe": invalid syntax` });
    assert.equal((await call('GET', '/services?status=maybe', '', '1.40')).status, 503, 'before API 1.41 status is ignored');
    assert.equal((await call('GET', '/services/web?insertDefaults=yes')).status, 400);
    assert.deepEqual(await call('GET', '/services/web/logs'), { status: 400, message: 'Bad parameters: you must choose at least one stream' });
    assert.equal((await call('GET', '/nodes?filters=%7Bbad')).status, 400);
    assert.equal((await call('POST', '/services/create', '[1]')).status, 400);
  });

  it("reports the node's state in /info's Swarm block and /_ping's Swarm header", () => {
    const s = outside().status();
    assert.equal(swarmHeader(s), 'inactive');
    assert.deepEqual(swarmInfoShape(s), { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null });
    assert.equal(swarmHeader({ ...s, state: 'active', controlAvailable: true }), 'active/manager');
    assert.equal(swarmHeader({ ...s, state: 'active' }), 'active/worker');
  });
});
