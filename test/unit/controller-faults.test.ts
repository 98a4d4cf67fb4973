/**
 * The network controller on the fake kernel: a join (and its publication) that fails at
 * any step leaves nothing behind; after a crash at any step of create, join, leave and
 * rm, a restart removes the orphans and restores what the model holds; a disconnect
 * hands the default route to the next endpoint.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeHost, joinRequest, PORT_8080, SANDBOX_DIR, untilCrash } from '../lib/fake-host.js';
import type { NetworkController } from '../../src/network/controller.js';

const C1 = 'c1'.padEnd(64, '0');
const APP = { name: 'app', driver: 'bridge', internal: false, attachable: false, ingress: false, enableIPv6: false, labels: {}, options: {}, ipamDriver: 'default', ipamOptions: {} };
const subnet = (s: string) => ({ subnets: [{ subnet: s, auxAddresses: {} }] });

/** A host with the user network "app" (10.9.0.0/24), counting steps from here. */
async function hostWithApp(): Promise<FakeHost> {
  const h = await FakeHost.start();
  await h.networks.create({ ...APP, ...subnet('10.9.0.0/24') });
  await h.settle();
  h.faults.reset();
  return h;
}

/** Every change the work makes, counted on a host of its own. */
async function stepsOf(work: (h: FakeHost) => Promise<unknown>, host: () => Promise<FakeHost>): Promise<string[]> {
  const h = await host();
  await work(h);
  await h.settle();
  return [...h.faults.log];
}

describe('a join that fails', () => {
  it('fails at each step either completes or, once its sandbox is removed, leaves kernel and store as before', async () => {
    /** Which of the two failed: a join that fails keeps no endpoint, a publication that fails no port. */
    const attach = async (h: FakeHost): Promise<'done' | 'join' | 'publish'> => {
      if (!(await h.networks.join('app', joinRequest(C1)).then(() => true, () => false))) return 'join';
      return (await h.networks.publish(C1, [PORT_8080]).then(() => true, () => false)) ? 'done' : 'publish';
    };
    const steps = await stepsOf(attach, hostWithApp);
    assert.ok(steps.length >= 8, `a join with a publication takes several steps: ${steps.join(' | ')}`);
    let failed = 0;
    for (let k = 1; k <= steps.length; k++) {
      const h = await hostWithApp();
      const kernelBefore = h.kernel.snapshot();
      const storeBefore = h.store.snapshot();
      h.faults.failAt = k;
      const outcome = await attach(h);
      await h.settle();
      const where = `failure at step ${k} (${steps[k - 1]})`;
      if (outcome === 'done') {
        assert.equal(h.networks.endpointsOf(C1).length, 1, where);
        assert.equal(h.networks.publishedPorts(C1).length, 1, where);
        continue;
      }
      failed++;
      // What the controller answers for at once: a failed join keeps no endpoint or address, a failed publication no port.
      if (outcome === 'join') {
        assert.deepEqual(h.networks.endpointsOf(C1), [], where);
        assert.deepEqual(h.networks.find('app').record.ipam.pools[0]!.allocated, [], where);
      }
      assert.deepEqual(h.networks.publishedPorts(C1), [], where);
      assert.deepEqual([...h.kernel.held], [], where);
      // The engine then removes the sandbox, as a failed start does: nothing is left.
      h.faults.failAt = undefined;
      await h.networks.removeSandbox(C1);
      await h.settle();
      assert.deepEqual(h.kernel.snapshot(), kernelBefore, where);
      assert.deepEqual(h.store.snapshot(), storeBefore, where);
    }
    assert.ok(failed > steps.length / 2, `most steps fail the join (${failed} of ${steps.length})`);
  });
});

/** create app, attach c1 with -p 8080:80, stop c1 (its sandbox goes), rm app. */
async function lifecycle(h: FakeHost): Promise<void> {
  await h.networks.create({ ...APP, ...subnet('10.9.0.0/24') });
  await h.attach(C1, 'app', [PORT_8080]);
  await h.networks.removeSandbox(C1);
  await h.networks.remove('app');
  await h.settle();
}

/** What must hold on a host whose containers are all dead, whatever was cut short. */
function assertConsistent(h: FakeHost, where: string): void {
  const networks = h.networks.list();
  const bridges = networks.flatMap((n) => n.driver.kernelNames);
  const links = [...h.kernel.host.values()];
  assert.deepEqual(links.map((l) => l.name).sort(), [...bridges].sort(), `${where}: only the networks' bridges`);
  for (const l of links) {
    const net = networks.find((n) => n.driver.kernelNames.includes(l.name))!;
    assert.ok(l.up && l.kind === 'bridge', `${where}: ${l.name} is an up bridge`);
    assert.deepEqual(l.addresses, net.record.ipam.pools.map((p) => `${p.gateway}/${p.subnet.split('/')[1]}`), `${where}: ${l.name} has its gateways`);
  }
  assert.deepEqual([...h.kernel.namespaces.keys()], ['host'], `${where}: no sandbox left`);
  assert.deepEqual([...h.kernel.held], [], `${where}: no host port held`);
  assert.deepEqual(Object.keys(h.store.snapshot()).filter((k) => /^(endpoint|sandbox|ports)\//.test(k)), [], `${where}: no endpoint, sandbox or publication stored`);
  for (const n of networks) assert.deepEqual(n.record.ipam.pools.flatMap((p) => p.allocated), [], `${where}: ${n.record.name} has no address out`);
  assert.ok(h.kernel.tables.has('inet berth') && h.kernel.tables.has('bridge berth'), `${where}: berth's tables exist`);
}

describe('a crash', () => {
  it('at any step of create, join, leave and rm: the restart removes orphans and restores what the model holds', async () => {
    const steps = await stepsOf(lifecycle, async () => {
      const h = await FakeHost.start();
      h.faults.reset();
      return h;
    });
    for (let k = 1; k <= steps.length; k++) {
      const h = await FakeHost.start();
      h.faults.reset();
      h.faults.crashAt = k;
      assert.equal(await untilCrash(h.faults, () => lifecycle(h)), 'crashed');
      const after = await h.restart();
      await after.networks.reconcileSandboxes(new Set()); // c1 died with the daemon
      await after.settle();
      assertConsistent(after, `crash at step ${k} (${steps[k - 1]})`);
    }
  });

  it('while a container runs on: its endpoint is wired again after a crash in the middle of its join', async () => {
    const steps = await stepsOf((h) => h.attach(C1, 'app', [PORT_8080]), hostWithApp);
    for (let k = 1; k <= steps.length; k++) {
      const h = await hostWithApp();
      h.faults.crashAt = k;
      await untilCrash(h.faults, () => h.attach(C1, 'app', [PORT_8080]));
      const after = await h.restart();
      await after.networks.reconcileSandboxes(new Set([C1]));
      await after.networks.repairEndpoints([C1]);
      await after.settle();
      const where = `crash at step ${k} (${steps[k - 1]})`;
      const [ep] = after.networks.endpointsOf(C1);
      if (!ep) continue; // the join never reached the store: the engine's resync joins again
      const bridge = after.networks.find('app').driver.kernelNames[0];
      assert.equal(after.kernel.host.get(ep.hostIfName!)?.master, bridge, `${where}: the host end is on the bridge`);
      const inside = after.kernel.namespaces.get(after.networks.sandboxPath(C1));
      assert.ok(inside?.get(ep.ifName!)?.addresses.includes(`${ep.ipv4!.address}/24`), `${where}: eth0 has its address`);
      assert.equal([...after.kernel.host.values()].filter((l) => l.kind === 'veth').length, 1, `${where}: one veth, no orphan`);
      // Traffic's start holds the stored publication's host port again, for the new daemon.
      const published = after.networks.publishedPorts(C1).length > 0;
      assert.equal(after.kernel.held.has('tcp 0.0.0.0:8080'), published, `${where}: the published port is held again`);
    }
  });
});

describe('a disconnect', () => {
  it('gives the default route to the next endpoint that can route, and takes the published ports with the old one', async () => {
    const h = await hostWithApp();
    await h.networks.create({ ...APP, name: 'db', ...subnet('10.10.0.0/24') });
    await h.attach(C1, 'app', [PORT_8080]);
    await h.networks.join('db', joinRequest(C1));
    const routes = (n: NetworkController) => [...h.kernel.routeTable.get(n.sandboxPath(C1))!].filter((r) => r.startsWith('default'));
    assert.deepEqual(routes(h.networks), ['default via 10.9.0.1 dev eth0']);
    const [onApp, onDb] = h.networks.endpointsOf(C1);
    assert.equal(onApp?.gateway, true);
    assert.equal(onDb?.gateway, false);
    assert.equal(h.networks.publishedPorts(C1).length, 1);
    await h.networks.leave(onApp!.id);
    await h.settle();
    assert.deepEqual(routes(h.networks), ['default via 10.10.0.1 dev eth1']);
    assert.equal(h.networks.endpointsOf(C1)[0]?.gateway, true);
    assert.deepEqual(h.networks.publishedPorts(C1), [], 'the engine publishes them again through the new gateway');
    assert.deepEqual([...h.kernel.held], []);
    assert.deepEqual(await h.networks.publish(C1, [PORT_8080]).then((p) => p.length), 1);
    assert.ok(SANDBOX_DIR.length > 0);
  });
});

describe('work on different networks', () => {
  it('overlaps: a join held half way on one network does not hold up a join on another', { timeout: 10_000 }, async () => {
    const h = await hostWithApp();
    await h.networks.create({ ...APP, name: 'db', ...subnet('10.10.0.0/24') });
    const appBridge = h.networks.find('app').driver.kernelNames[0]!;
    let release = (): void => undefined;
    h.faults.hold = { match: (what) => what.includes(`master ${appBridge}`), until: new Promise<void>((r) => (release = r)) };
    const C2 = 'c2'.padEnd(64, '0');
    const held = h.networks.join('app', joinRequest(C1));
    const other = await h.networks.join('db', joinRequest(C2));
    assert.equal(other.networkId, h.networks.find('db').record.id, 'the join on db finished while the one on app waits');
    assert.equal(h.networks.endpointsOf(C1).length, 1, 'the held join is under way');
    release();
    await held;
    // A second join on app waits for the first: one network's IPAM changes one at a time.
    const C3 = 'c3'.padEnd(64, '0');
    const [a, b] = await Promise.all([h.networks.join('app', joinRequest(C3)), h.networks.leave(h.networks.endpointsOf(C1)[0]!.id)]);
    assert.equal(a.ipv4?.address, '10.9.0.3');
    assert.equal(b, undefined);
    assert.deepEqual(h.networks.find('app').record.ipam.pools[0]!.allocated, ['10.9.0.3']);
  });
});
