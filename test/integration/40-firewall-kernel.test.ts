/**
 * berth's nftables ruleset against real traffic, without berthd: a world built by hand
 * in namespaces. A "host" namespace with four bridges — app (ICC on, IPv4+IPv6), other
 * (another network), secret (internal) and quiet (ICC off) — "containers" attached by
 * veth, and a "lan" namespace joined to the host (192.0.2.1 ↔ 192.0.2.2, 2001:db8::1 ↔
 * 2001:db8::2) standing for another machine. The ruleset is applied in the host namespace
 * through the Firewall service, and busybox httpd/wget check what gets through.
 * Everything made here is removed in `after`, even when a test fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Firewall, globalSysctls, networkSysctls, portLinkCommands, publicationsFor, type FirewallModel, type FwNetwork, type FwPublication } from '../../src/network/firewall/index.js';
import { nftApply, nftIn, nftListTable, summarizeTable } from '../../src/kernel/nft.js';
import { addPublications } from '../../src/network/firewall/ruleset.js';
import { writeSysctl } from '../../src/kernel/sysctl.js';
import type { PortSpec } from '../../src/network/ports/spec.js';

const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/nft') && fs.existsSync('/bin/busybox');
const P = `fw-test-${randomBytes(2).toString('hex')}`;
const nsName = (n: string): string => `${P}-${n}`;
const nsPath = (n: string): string => `/run/netns/${nsName(n)}`;

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

function sh(cmd: string, args: readonly string[], input = '', timeoutMs = 20_000): Promise<Out> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the tool may exit before reading its input
    child.stdin.end(input);
  });
}

async function must(cmd: string, args: readonly string[], input = ''): Promise<string> {
  const r = await sh(cmd, args, input);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const ipIn = (n: string, cmds: readonly string[]): Promise<string> => must('ip', ['-n', nsName(n), '-batch', '-'], cmds.join('\n') + '\n');

/** GET a URL from inside a namespace with busybox wget; undefined when it fails or times out. */
async function get(from: string, url: string, seconds = 3): Promise<string | undefined> {
  const r = await sh('timeout', [String(seconds), 'ip', 'netns', 'exec', nsName(from), '/bin/busybox', 'wget', '-q', '-O', '-', url]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** The client address an httpd in the lan namespace saw (its CGI prints REMOTE_ADDR). */
const seenFrom = (s: string | undefined): string | undefined => s?.replace(/^\[?(::ffff:)?/, '').replace(/\]$/, '');

const APP: FwNetwork = { id: 'app', bridge: 'br-app', subnets: ['10.88.0.0/24', 'fd00:88::/64'], internal: false, icc: true, masquerade: true };
const OTHER: FwNetwork = { id: 'other', bridge: 'br-other', subnets: ['10.89.0.0/24'], internal: false, icc: true, masquerade: true };
const SECRET: FwNetwork = { id: 'secret', bridge: 'br-secret', subnets: ['10.90.0.0/24'], internal: true, icc: true, masquerade: true };
const QUIET: FwNetwork = { id: 'quiet', bridge: 'br-quiet', subnets: ['10.91.0.0/24'], internal: false, icc: false, masquerade: true };

interface Ctr {
  name: string;
  net: FwNetwork;
  ipv4: string;
  ipv6?: string;
}
const CTRS: Ctr[] = [
  { name: 'c1', net: APP, ipv4: '10.88.0.2', ipv6: 'fd00:88::2' },
  { name: 'c2', net: APP, ipv4: '10.88.0.3', ipv6: 'fd00:88::3' },
  { name: 'c3', net: OTHER, ipv4: '10.89.0.2' },
  { name: 'c4', net: SECRET, ipv4: '10.90.0.2' },
  { name: 'c5', net: QUIET, ipv4: '10.91.0.2' },
  { name: 'c6', net: QUIET, ipv4: '10.91.0.3' },
];
const gateway = (net: FwNetwork, family: 4 | 6): string => {
  const s = net.subnets.find((x) => x.includes(':') === (family === 6))!;
  return family === 4 ? s.replace(/0\/\d+$/, '1') : s.replace(/::\/\d+$/, '::1');
};
const vethOf = (c: Ctr): string => `v${P.slice(-4)}${c.name}`;

const mapping = (proto: PortSpec['proto'], hostIp: string, h: [number, number], c: [number, number]): PortSpec => ({
  proto,
  hostIp,
  hostPorts: { start: h[0], end: h[1] },
  containerPorts: { start: c[0], end: c[1] },
});
const pubsOf = (c: Ctr, ...mappings: PortSpec[]): FwPublication[] => publicationsFor(c.net.id, c.name, mappings, { ipv4: c.ipv4, ipv6: c.ipv6 });
const ctr = (name: string): Ctr => CTRS.find((c) => c.name === name)!;

// berthd switches br_netfilter's call-out off by default (--br-netfilter keeps it): the
// ruleset must hold either way, so every case runs under both.
for (const brNetfilter of [false, true]) {
  describe(`firewall in the kernel (namespaces, no berthd; br_netfilter call-out ${brNetfilter ? 'on' : 'off'})`, { skip: !canRun && 'needs root, nft and /bin/busybox' }, () => {
    const children: ChildProcess[] = [];
    const made: string[] = [];
    let www = '';
    const model: FirewallModel = { networks: [APP, OTHER, SECRET, QUIET], endpoints: [], publications: [] };
    const fw = new Firewall({ nft: nftIn({ netns: nsPath('h') }) });
    const current = (): FirewallModel => model;

    async function inet(): Promise<ReturnType<typeof summarizeTable>> {
      const t = await nftListTable('inet', 'berth', { netns: nsPath('h') });
      assert.ok(t, 'table inet berth exists');
      return summarizeTable(t);
    }
    const elementCount = (s: ReturnType<typeof summarizeTable>): number => Object.values(s.elements).reduce((a, b) => a + b, 0);

    function serve(n: string, port: number | string): void {
      const child = spawn('ip', ['netns', 'exec', nsName(n), '/bin/busybox', 'httpd', '-f', '-p', String(port), '-h', www], { stdio: 'ignore' });
      children.push(child);
    }

    async function publish(pubs: FwPublication[]): Promise<number> {
      model.publications.push(...pubs);
      const t0 = performance.now();
      assert.equal(await fw.addPublications(pubs, current), 'incremental');
      return performance.now() - t0;
    }

    async function unpublish(pubs: FwPublication[]): Promise<void> {
      model.publications = model.publications.filter((p) => !pubs.includes(p));
      assert.equal(await fw.removePublications(pubs, current), 'incremental');
    }

    before(async () => {
      www = fs.mkdtempSync(path.join(os.tmpdir(), `${P}-www-`));
      fs.writeFileSync(path.join(www, 'id'), 'hello\n');
      fs.mkdirSync(path.join(www, 'cgi-bin'));
      fs.writeFileSync(path.join(www, 'cgi-bin', 'ip'), '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n', { mode: 0o755 });

      for (const n of ['h', 'lan', 'c7', ...CTRS.map((c) => c.name)]) {
        await must('ip', ['netns', 'add', nsName(n)]);
        made.push(nsName(n));
        await ipIn(n, ['link set lo up']);
      }
      const host: string[] = [];
      for (const net of model.networks) {
        host.push(`link add ${net.bridge} type bridge`, `link set ${net.bridge} up`);
        host.push(`addr add ${gateway(net, 4)}/24 dev ${net.bridge}`);
        if (net.subnets.some((s) => s.includes(':'))) host.push(`addr add ${gateway(net, 6)}/64 dev ${net.bridge} nodad`);
      }
      host.push(`link add lan0 type veth peer name eth0 netns ${nsName('lan')}`, 'addr add 192.0.2.1/24 dev lan0', 'addr add 2001:db8::1/64 dev lan0 nodad', 'link set lan0 up');
      for (const c of CTRS) {
        host.push(`link add ${vethOf(c)} type veth peer name eth0 netns ${nsName(c.name)}`, `link set ${vethOf(c)} master ${c.net.bridge} up`);
        host.push(...portLinkCommands(vethOf(c)));
      }
      // c7 is on two networks: app (eth0, its default route) and other (eth1).
      host.push(`link add v${P.slice(-4)}c7a type veth peer name eth0 netns ${nsName('c7')}`, `link set v${P.slice(-4)}c7a master ${APP.bridge} up`);
      host.push(`link add v${P.slice(-4)}c7b type veth peer name eth1 netns ${nsName('c7')}`, `link set v${P.slice(-4)}c7b master ${OTHER.bridge} up`);
      await ipIn('h', host);
      await ipIn('c7', ['addr add 10.88.0.7/24 dev eth0', 'addr add 10.89.0.7/24 dev eth1', 'link set eth0 up', 'link set eth1 up', 'route add default via 10.88.0.1']);
      await ipIn('lan', ['addr add 192.0.2.2/24 dev eth0', 'addr add 2001:db8::2/64 dev eth0 nodad', 'link set eth0 up', 'route add default via 192.0.2.1', 'route add default via 2001:db8::1']);
      for (const c of CTRS) {
        const cmds = [`addr add ${c.ipv4}/24 dev eth0`, 'link set eth0 up', `route add default via ${gateway(c.net, 4)}`];
        if (c.ipv6) cmds.push(`addr add ${c.ipv6}/64 dev eth0 nodad`, `route add default via ${gateway(c.net, 6)}`);
        await ipIn(c.name, cmds);
        model.endpoints.push({ networkId: c.net.id, containerId: c.name, hostIfName: vethOf(c) });
      }
      // The lan knows how to reach the container subnets through the host (so direct access is tried for real).
      await ipIn('lan', ['route add 10.88.0.0/16 via 192.0.2.1', 'route add fd00:88::/64 via 2001:db8::1']);

      for (const s of [...globalSysctls(model.networks, { brNetfilter }), ...model.networks.flatMap(networkSysctls)]) {
        await writeSysctl(s.key, s.value, { netns: nsPath('h') });
      }
      await fw.sync(model);

      for (const c of CTRS) serve(c.name, 80);
      serve('c1', 20500);
      serve('lan', 80);
      serve('h', '127.0.0.1:9999'); // a host-only service on loopback
      // Wait until every server answers locally.
      for (const [n, url] of [...CTRS.map((c) => [c.name, 'http://127.0.0.1/id']), ['c1', 'http://127.0.0.1:20500/id'], ['lan', 'http://127.0.0.1/id'], ['h', 'http://127.0.0.1:9999/id']] as const) {
        let ok = false;
        for (let i = 0; i < 50 && !ok; i++) {
          ok = (await get(n, url, 1)) === 'hello';
          if (!ok) await new Promise((r) => setTimeout(r, 50));
        }
        assert.ok(ok, `server in ${n} answers ${url}`);
      }
    });

    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      for (const n of made) {
        const pids = (await sh('ip', ['netns', 'pids', n])).stdout.split('\n').filter((x) => /^\d+$/.test(x));
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await sh('ip', ['netns', 'del', n]);
      }
      if (www) fs.rmSync(www, { recursive: true, force: true });
      const left = (await sh('ip', ['netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(P));
      assert.deepEqual(left, [], 'no namespace left behind');
    });

    it('publishes -p 8080:80 in one constant-size transaction and reaches the container from the lan (v4 and v6)', async () => {
      const before = await inet();
      const ms = await publish(pubsOf(ctr('c1'), mapping('tcp', '', [8080, 8080], [80, 80])));
      const after = await inet();
      console.log(`# publish one port: ${ms.toFixed(1)} ms`);
      assert.equal(elementCount(after) - elementCount(before), 2, 'one element per family');
      assert.equal(after.rules, before.rules, 'no rule added');
      assert.equal(await get('lan', 'http://192.0.2.1:8080/id'), 'hello');
      assert.equal(await get('lan', 'http://[2001:db8::1]:8080/id'), 'hello');
    });

    it('publishes UDP (-p 5353:53/udp)', async () => {
      const echo = `const s = require('node:dgram').createSocket('udp4');
        s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
        s.bind(53, () => console.log('ready'));`;
      const server = spawn('ip', ['netns', 'exec', nsName('c1'), process.execPath, '-e', echo], { stdio: ['ignore', 'pipe', 'inherit'] });
      children.push(server);
      await new Promise<void>((resolve) => server.stdout?.once('data', () => resolve()));
      await publish(pubsOf(ctr('c1'), mapping('udp', '', [5353, 5353], [53, 53])));
      const ask = `const s = require('node:dgram').createSocket('udp4');
        const t = setTimeout(() => process.exit(1), 2000);
        s.on('message', (m, r) => { console.log(m.toString() + ' from ' + r.address + ':' + r.port); clearTimeout(t); s.close(); });
        s.send('ping', 5353, '192.0.2.1');`;
      const r = await sh('ip', ['netns', 'exec', nsName('lan'), process.execPath, '-e', ask]);
      assert.equal(r.stdout.trim(), 'echo:ping from 192.0.2.1:5353');
      server.kill('SIGKILL');
    });

    it('keeps unpublished container ports and addresses closed to the lan', async () => {
      const [v4, v6] = await Promise.all([get('lan', 'http://10.88.0.2/id', 2), get('lan', 'http://[fd00:88::2]/id', 2)]);
      assert.equal(v4, undefined);
      assert.equal(v6, undefined);
    });

    it('reaches a published port from the host itself, by its address and by 127.0.0.1', async () => {
      assert.equal(await get('h', 'http://192.0.2.1:8080/id'), 'hello');
      assert.equal(await get('h', 'http://127.0.0.1:8080/id'), 'hello');
      assert.equal(await get('h', 'http://10.88.0.1:8080/id'), 'hello');
    });

    it('a port bound to 127.0.0.1 is reachable from the host only', async () => {
      await publish(pubsOf(ctr('c1'), mapping('tcp', '127.0.0.1', [8081, 8081], [80, 80])));
      assert.equal(await get('h', 'http://127.0.0.1:8081/id'), 'hello');
      const [lan, fromCtr] = await Promise.all([get('lan', 'http://192.0.2.1:8081/id', 2), get('c2', 'http://10.88.0.1:8081/id', 2)]);
      assert.equal(lan, undefined);
      assert.equal(fromCtr, undefined);
    });

    it('hairpin: containers reach published ports through the host address, their own included', async () => {
      assert.equal(seenFrom(await get('c2', 'http://192.0.2.1:8080/cgi-bin/ip')), '10.88.0.1');
      assert.equal(seenFrom(await get('c1', 'http://192.0.2.1:8080/cgi-bin/ip')), '10.88.0.1');
      assert.equal(await get('c2', 'http://[2001:db8::1]:8080/id'), 'hello');
      // From another network too (published ports are for everyone).
      assert.equal(await get('c3', 'http://192.0.2.1:8080/id'), 'hello');
    });

    it('masquerades egress: the lan sees the host address', async () => {
      assert.equal(seenFrom(await get('c1', 'http://192.0.2.2/cgi-bin/ip')), '192.0.2.1');
      assert.equal(seenFrom(await get('c3', 'http://192.0.2.2/cgi-bin/ip')), '192.0.2.1');
    });

    it('ICC on lets containers of a network talk; ICC off stops them but published ports work', async () => {
      assert.equal(await get('c2', 'http://10.88.0.2/id'), 'hello');
      // Endpoints of the ICC-off network join: one element each.
      const quiet = model.endpoints.filter((e) => e.networkId === QUIET.id);
      for (const ep of quiet) assert.equal(await fw.addEndpoint(ep, QUIET, current), 'incremental');
      await publish(pubsOf(ctr('c5'), mapping('tcp', '', [8090, 8090], [80, 80])));
      for (const brnf of ['1', '0']) {
        // With and without br_netfilter (built into this kernel, on by default).
        await writeSysctl(['net', 'bridge', 'bridge-nf-call-iptables'], brnf, { netns: nsPath('h') });
        assert.equal(await get('c6', 'http://10.91.0.2/id', 2), undefined, `ICC off, br_netfilter=${brnf}`);
        assert.equal(await get('c5', 'http://10.91.0.3/id', 2), undefined, `ICC off, br_netfilter=${brnf}`);
        assert.equal(await get('c6', 'http://192.0.2.1:8090/id'), 'hello', `published port from a neighbour, br_netfilter=${brnf}`);
        assert.equal(await get('c5', 'http://192.0.2.1:8090/id'), 'hello', `own published port, br_netfilter=${brnf}`);
        assert.equal(await get('lan', 'http://192.0.2.1:8090/id'), 'hello');
        assert.equal(await get('c2', 'http://10.88.0.2/id'), 'hello', `ICC on, br_netfilter=${brnf}`);
        assert.equal(seenFrom(await get('c1', 'http://192.0.2.1:8080/cgi-bin/ip')), '10.88.0.1', `self hairpin, br_netfilter=${brnf}`);
      }
      await writeSysctl(['net', 'bridge', 'bridge-nf-call-iptables'], '1', { netns: nsPath('h') });
    });

    it('isolates networks both ways; a container on two networks reaches both', async () => {
      const [a, b, c] = await Promise.all([get('c3', 'http://10.88.0.2/id', 2), get('c1', 'http://10.89.0.2/id', 2), get('c1', 'http://10.91.0.2/id', 2)]);
      assert.deepEqual([a, b, c], [undefined, undefined, undefined]);
      assert.equal(await get('c7', 'http://10.88.0.2/id'), 'hello');
      assert.equal(await get('c7', 'http://10.89.0.2/id'), 'hello');
    });

    it('an internal network has no way out and no way in', async () => {
      const [out, inbound, other] = await Promise.all([get('c4', 'http://192.0.2.2/id', 2), get('lan', 'http://10.90.0.2/id', 2), get('c1', 'http://10.90.0.2/id', 2)]);
      assert.deepEqual([out, inbound, other], [undefined, undefined, undefined]);
      // The host itself can still reach it (as with Docker).
      assert.equal(await get('h', 'http://10.90.0.2/id'), 'hello');
    });

    it('publishes a 1000-port range as one element in one transaction; unpublish removes it', async () => {
      const before = await inet();
      const range = pubsOf(ctr('c1'), mapping('tcp', '', [20000, 20999], [20000, 20999]));
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(await publish(range));
        if (i < 4) await unpublish(range);
      }
      const after = await inet();
      console.log(`# publish a 1000-port range: ${samples.sort((a, b) => a - b)[2]!.toFixed(1)} ms (median of 5)`);
      assert.equal(elementCount(after) - elementCount(before), 2, 'one element per family');
      assert.equal(after.rules, before.rules);
      assert.equal(await get('lan', 'http://192.0.2.1:20500/id'), 'hello');
      assert.equal(await get('lan', 'http://[2001:db8::1]:20500/id'), 'hello');
      await unpublish(range);
      assert.equal(elementCount(await inet()), elementCount(before));
      assert.equal(await get('lan', 'http://192.0.2.1:20500/id', 2), undefined);
    });

    it('publishes a range with an offset (one element per port) and the middle port works', async () => {
      const before = await inet();
      const offset = pubsOf({ ...ctr('c1'), ipv6: undefined }, mapping('tcp', '', [31000, 31009], [20495, 20504]));
      await publish(offset);
      assert.equal(elementCount(await inet()) - elementCount(before), 10);
      assert.equal(await get('lan', 'http://192.0.2.1:31005/id'), 'hello');
      await unpublish(offset);
    });

    // What it costs is a benchmark's figure (bench/ports.ts); here: the 500th is the same
    // small incremental change as the first, whatever is already published.
    it('the 500th publication is the same incremental change as the first', async () => {
      const time = async (pubs: FwPublication[]): Promise<number> => {
        const samples: number[] = [];
        for (let i = 0; i < 7; i++) {
          samples.push(await publish(pubs));
          await unpublish(pubs);
        }
        return samples.sort((a, b) => a - b)[3]!;
      };
      const c2 = ctr('c2');
      const one = pubsOf(c2, mapping('udp', '', [40000, 40000], [53, 53]));
      const script = addPublications(one);
      const rulesBefore = (await inet()).rules;
      const first = await time(one);
      const filler = Array.from({ length: 498 }, (_, i) => pubsOf(c2, mapping('udp', '', [41000 + i, 41000 + i], [53, 53]))).flat();
      model.publications.push(...filler);
      await nftApply(addPublications(filler), { netns: nsPath('h') });
      const s = await inet();
      assert.ok(elementCount(s) >= 498 * 2);
      assert.equal(s.rules, rulesBefore, 'publications are elements, never rules');
      const again = pubsOf(c2, mapping('udp', '', [40000, 40000], [53, 53]));
      assert.equal(addPublications(again), script, 'the same transaction with 498 others published');
      const fivehundredth = await time(again);
      console.log(`# publish the 1st: ${first.toFixed(1)} ms, the 500th: ${fivehundredth.toFixed(1)} ms (median of 7, nsenter + nft spawn included)`);
      model.publications = model.publications.filter((p) => !filler.includes(p));
      await fw.sync(model);
    });

    it('containers cannot reach the host loopback even though route_localnet is on', async () => {
      // Make c2 send 127.0.0.1 to its gateway (as a hostile container could).
      await ipIn('c2', ['route add 127.0.0.1/32 via 10.88.0.1 dev eth0 table 100', 'rule add to 127.0.0.1 lookup 100 pref 10', 'rule del pref 0', 'rule add pref 100 lookup local']);
      await writeSysctl(['net', 'ipv4', 'conf', 'eth0', 'route_localnet'], '1', { netns: nsPath('c2') });
      assert.equal(await get('c2', 'http://127.0.0.1:9999/id', 2), undefined);
      assert.equal(await get('c2', 'http://127.0.0.1:8081/id', 2), undefined);
    });

    it('restores everything after `nft flush ruleset`, by a full render or a failed change', async () => {
      await must('ip', ['netns', 'exec', nsName('h'), 'nft', 'flush', 'ruleset']);
      assert.equal(await get('lan', 'http://192.0.2.1:8080/id', 2), undefined);
      const extra = pubsOf(ctr('c3'), mapping('tcp', '', [8089, 8089], [80, 80]));
      model.publications.push(...extra);
      assert.equal(await fw.addPublications(extra, current), 'full');
      assert.equal(await get('lan', 'http://192.0.2.1:8080/id'), 'hello');
      assert.equal(await get('lan', 'http://192.0.2.1:8089/id'), 'hello');
      await fw.sync(model); // idempotent
      assert.equal(await get('lan', 'http://192.0.2.1:8080/id'), 'hello');
    });

    it('holds published host ports in the host namespace without breaking DNAT, and refuses a busy one', async () => {
      const reserve = new URL('../../src/network/ports/reserve.js', import.meta.url).href;
      const hostports = new URL('../../src/kernel/hostports.js', import.meta.url).href;
      const script = `
        import { reserveHostPorts as reserveWith } from ${JSON.stringify(reserve)};
        import { holdHostPorts } from ${JSON.stringify(hostports)};
        const reserveHostPorts = (m, t) => reserveWith(holdHostPorts, m, t);
        const m = (h, c) => ({ proto: 'tcp', hostIp: '', hostPorts: { start: h[0], end: h[1] }, containerPorts: { start: c[0], end: c[1] } });
        const target = { ipv4: '10.88.0.2' };
        const held = await reserveHostPorts([m([8080, 8080], [80, 80])], target);
        let t0 = performance.now();
        const range = await reserveHostPorts([m([20000, 20999], [20000, 20999])], target);
        const ms = performance.now() - t0;
        let busy = '';
        try { await reserveHostPorts([m([9999, 9999], [80, 80])], { ipv4: '10.88.0.2' }); } catch (e) { busy = e.message; }
        process.stdout.write(JSON.stringify({ ms, sockets: range.sockets, busy }) + '\\n');
        process.stdin.resume();
        process.stdin.on('end', () => process.exit(0));
      `;
      const child = spawn('nsenter', [`--net=${nsPath('h')}`, '--', process.execPath, '--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
      children.push(child);
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout?.on('data', (b: Buffer) => {
          buf += b.toString();
          if (buf.includes('\n')) resolve(buf.trim());
        });
        child.on('exit', (code) => reject(new Error(`reserver exited ${code}`)));
      });
      const r = JSON.parse(line) as { ms: number; sockets: number; busy: string };
      console.log(`# hold 1000 host ports (0.0.0.0, tcp) in the host namespace: ${r.ms.toFixed(1)} ms`);
      assert.equal(r.sockets, 1000);
      // busybox httpd holds 127.0.0.1:9999, so 0.0.0.0:9999 cannot be bound.
      assert.equal(r.busy, 'failed to bind host port for 0.0.0.0:9999:10.88.0.2:80/tcp: address already in use');
      // The daemon's socket on 0.0.0.0:8080 does not capture traffic: DNAT comes first.
      assert.equal(await get('lan', 'http://192.0.2.1:8080/id'), 'hello');
      assert.equal(await get('h', 'http://127.0.0.1:8080/id'), 'hello');
      child.stdin?.end();
      await new Promise((r) => child.once('exit', r));
    });

    it('leaves no other table behind and deletes its own', async () => {
      const list = await must('ip', ['netns', 'exec', nsName('h'), 'nft', 'list', 'tables']);
      assert.deepEqual(list.trim().split('\n').sort(), ['table bridge berth', 'table inet berth']);
      await fw.remove();
      await fw.remove();
      assert.equal((await must('ip', ['netns', 'exec', nsName('h'), 'nft', 'list', 'tables'])).trim(), '');
    });
  });
}
