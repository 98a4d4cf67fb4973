/**
 * `berth trace` on a real host (a World with a lan): real packets followed through the
 * kernel's nftables with nftrace, each path of a single host explained — the same bridge
 * (delivered at layer 2), another network (dropped by isolation), ICC off, an internal
 * network (no route out), a published port from outside (DNAT to the container, the flow
 * awaited while the lan sends it), a hairpin, egress (masquerade), and a port published on 127.0.0.1
 * only — and the trace's own table removed after each.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceResult } from '../../src/insight/trace.js';
import { LAN_HOST_IP, LAN_PEER_IP, World } from '../lib/world.js';

describe('berth trace', () => {
  let w: World;
  let lan: string;
  const ip = async (name: string, network: string): Promise<string> => w.dockerOk('inspect', '-f', `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`, name);
  before(async () => {
    w = await World.create();
    lan = await w.addLan();
    for (const args of [['app'], ['other'], ['--internal', 'sealed'], ['-o', 'com.docker.network.bridge.enable_icc=false', 'quiet']]) await w.dockerOk('network', 'create', ...args);
    const run = async (name: string, network: string, ...rest: string[]): Promise<string> => w.dockerOk('run', '-d', '--name', name, '--network', network, ...rest);
    await run('web', 'app', '-p', '8080:80', '-p', '127.0.0.1:8081:80', 'busybox', 'httpd', '-f', '-p', '80');
    await run('db', 'app', 'busybox', 'sleep', '3600');
    await run('stranger', 'other', 'busybox', 'sleep', '3600');
    await run('vault', 'sealed', 'busybox', 'sleep', '3600');
    await run('q1', 'quiet', 'busybox', 'sleep', '3600');
    await run('q2', 'quiet', 'busybox', 'httpd', '-f', '-p', '80');
    // The lan's end for egress: a closed port answers with a reset.
  });
  after(async () => {
    await w.dispose();
  });

  const trace = async (...args: string[]): Promise<{ code: number; r: TraceResult }> => {
    const out = await w.berth('trace', '--format', 'json', ...args);
    assert.equal(out.stderr, '');
    return { code: out.code, r: JSON.parse(out.stdout) as TraceResult };
  };
  const traceTables = async (): Promise<string> => (await w.inNs(w.ns, ['nft', 'list', 'tables'])).stdout;

  it('same network: delivered at layer 2, only the bridge family sees it', async () => {
    const { code, r } = await trace('db', 'web:80');
    assert.equal(code, 0);
    assert.equal(r.probe, 'connected');
    assert.ok(r.hops.length > 0 && r.hops.every((h) => h.chain.startsWith('bridge berth ')), JSON.stringify(r.hops));
    assert.match(r.summary, /^delivered, leaving by veth[0-9a-f]+ \(app\)\.$/);
    assert.doesNotMatch(await traceTables(), /berth_trace/, 'the trace’s table is gone');
  });

  it('another network: dropped by berth’s isolation, the rule and the reason named', async () => {
    const { code, r } = await trace('stranger', 'web:80');
    assert.equal(code, 1);
    assert.equal(r.dropped?.chain, 'inet berth forward');
    assert.match(r.dropped?.rule ?? '', /comment "other networks and outside: no direct access"/);
    assert.equal(r.summary, 'dropped in inet berth forward: networks are isolated: containers of other networks and machines outside reach network app only through a published port.');
  });

  it('ICC off: dropped in the bridge table, naming the network', async () => {
    const { r } = await trace('q1', 'q2:80');
    assert.equal(r.dropped?.chain, 'bridge berth icc_unicast');
    assert.match(r.summary, /inter-container communication is off on network quiet/);
  });

  it('an internal network: nothing leaves, for want of a route', async () => {
    const { r } = await trace('vault', 'web');
    assert.equal(r.probe, 'ENETUNREACH');
    assert.equal(r.hops.length, 0);
    assert.match(r.summary, /^no route: the source has no route to it/);
  });

  it('a published port from outside: the flow awaited, DNAT to the container, delivered', async () => {
    const webIp = await ip('web', 'app');
    const pending = trace('--wait', '6', LAN_PEER_IP, `${LAN_HOST_IP}:8080/tcp`);
    // The trace's table and monitor need a moment (more on a loaded machine) before the lan sends.
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await w.inNs(lan, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', `http://${LAN_HOST_IP}:8080/`])).code, 0);
    const { code, r } = await pending;
    assert.equal(code, 0);
    assert.equal(r.probe, 'waited');
    assert.deepEqual(r.translated, [`DNAT ${LAN_HOST_IP}:8080 → web ${webIp}:80`]);
    assert.match(r.summary, /^delivered, DNAT .* leaving by br-[0-9a-f]+ \(app\)\.$/);
  });

  it('hairpin: a container to the host’s published port, translated back into its own network and masqueraded', async () => {
    const webIp = await ip('web', 'app');
    const { code, r } = await trace('db', `${LAN_HOST_IP}:8080/tcp`);
    assert.equal(code, 0);
    assert.equal(r.probe, 'connected');
    assert.equal(r.translated[0], `DNAT ${LAN_HOST_IP}:8080 → web ${webIp}:80`);
    assert.match(r.translated[1] ?? '', /^masquerade out of br-[0-9a-f]+ /, JSON.stringify(r.translated));
  });

  it('egress: masqueraded out of the host’s interface', async () => {
    const { r } = await trace('web', `${LAN_PEER_IP}:9/tcp`);
    assert.equal(r.probe, 'refused', 'the lan has nothing on port 9');
    assert.ok(r.translated.includes('masquerade out of lan0 (the source becomes that interface\'s address)'), JSON.stringify(r.translated));
    assert.equal(r.leftBy, 'lan0');
  });

  it('a port published on 127.0.0.1 only: not translated on another address, and said so', async () => {
    const { r } = await trace('host', `${LAN_HOST_IP}:8081/tcp`);
    assert.equal(r.probe, 'refused');
    assert.deepEqual(r.translated, []);
    assert.equal(r.summary, 'not translated: port 8081/tcp is published on 127.0.0.1 only, not on the address asked.');
  });

  it('refuses what it cannot trace, with a clear error', async () => {
    const bad = await w.berth('trace', 'nosuch', 'web');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /No such running container with a network: nosuch/);
    assert.match((await w.berth('trace', 'db', 'web/tcp')).stderr, /tcp needs a port \(web\/tcp:PORT\/tcp\)|tcp needs a port/);
  });
});
