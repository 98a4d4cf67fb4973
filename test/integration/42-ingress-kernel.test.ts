/**
 * The ingress routing mesh's table in the kernel, without berthd: namespaces made by hand.
 * Node "a" has a LAN link to a client (192.0.2.1 ↔ 192.0.2.2), an ingress bridge holding
 * its own ingress address (10.255.0.1/24) and a local task t1 (10.255.0.5, whose default
 * route goes back to the node by a docker_gwbridge-like link, as a task's does). Node "b"
 * stands for another node: its bridge is joined to a's by a veth (the VXLAN's place) and
 * holds task t2 (10.255.0.6). The table rendered by ingress-rules.ts is applied in a; the
 * tasks serve HTTP (a CGI naming the task and the client it saw) and UDP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { nftApply } from '../../src/kernel/nft.js';
import { ingressChangesScript, ingressTableScript, type IngressModel } from '../../src/network/services/ingress-rules.js';
import { must, RUN_TAG, sh } from '../lib/world.js';

const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/nft') && fs.existsSync('/bin/busybox');
const P = `${RUN_TAG}ingress-${randomBytes(2).toString('hex')}`;
const nsName = (n: string): string => `${P}-${n}`;
const NODE = '192.0.2.1';
const CLIENT = '192.0.2.2';
const NODE_INGRESS = '10.255.0.1';
const T1 = '10.255.0.5';
const T2 = '10.255.0.6';
const PUBLISHED = 30080;

const model = (backends: string[]): IngressModel => ({
  ports: [
    { proto: 'tcp', port: PUBLISHED, backends: backends.map((ip) => ({ ip, port: 80 })) },
    { proto: 'udp', port: PUBLISHED, backends: backends.map((ip) => ({ ip, port: 7 })) },
  ],
  local: { link: 'ov-ing', address: NODE_INGRESS },
  remote: backends.filter((b) => b === T2),
});

const ipIn = async (n: string, cmds: readonly string[]): Promise<void> => void (await must('ip', ['-n', nsName(n), '-batch', '-'], { input: cmds.join('\n') + '\n' }));

/** `n` fetches of the published port from namespace `from`, in one shell: "task client" per answer, "fail" per failure. */
async function fetchMany(from: string, address: string, n: number): Promise<string[]> {
  const script = `i=0; while [ $i -lt ${n} ]; do timeout 3 /bin/busybox wget -q -O - http://${address}:${PUBLISHED}/cgi-bin/who || echo fail; i=$((i+1)); done`;
  const out = await must('ip', ['netns', 'exec', nsName(from), '/bin/sh', '-c', script], { timeoutMs: 120_000 });
  return out.trim().split('\n').map((l) => l.replace(/\[(::ffff:)?|\]/g, ''));
}

const tally = (xs: readonly string[]): Record<string, number> => xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

describe('ingress routing mesh in the kernel (namespaces, no berthd)', { skip: !canRun && 'needs root, nft and /bin/busybox' }, () => {
  const children: ChildProcess[] = [];
  const made: string[] = [];
  let www = '';

  before(async () => {
    www = fs.mkdtempSync(path.join(os.tmpdir(), `${P}-www-`));
    for (const n of ['client', 'a', 'b', 't1', 't2']) {
      await must('ip', ['netns', 'add', nsName(n)]);
      made.push(n);
      await ipIn(n, ['link set lo up']);
    }
    await ipIn('a', [
      `link add lan0 type veth peer name eth0 netns ${nsName('client')}`,
      `addr add ${NODE}/24 dev lan0`,
      'link set lan0 up',
      'link add ov-ing type bridge',
      `addr add ${NODE_INGRESS}/24 dev ov-ing`,
      'link set ov-ing up',
      `link add t1-ing type veth peer name eth0 netns ${nsName('t1')}`,
      'link set t1-ing master ov-ing up',
      `link add t1-gw type veth peer name eth1 netns ${nsName('t1')}`,
      'addr add 172.18.0.1/16 dev t1-gw',
      'link set t1-gw up',
      `link add to-b type veth peer name to-a netns ${nsName('b')}`,
      'link set to-b master ov-ing up',
    ]);
    await ipIn('client', [`addr add ${CLIENT}/24 dev eth0`, 'link set eth0 up']);
    await ipIn('t1', [`addr add ${T1}/24 dev eth0`, 'link set eth0 up', 'addr add 172.18.0.2/16 dev eth1', 'link set eth1 up', 'route add default via 172.18.0.1']);
    await ipIn('b', ['link add ov-ing type bridge', 'link set ov-ing up', 'link set to-a master ov-ing up', `link add t2-ing type veth peer name eth0 netns ${nsName('t2')}`, 'link set t2-ing master ov-ing up']);
    await ipIn('t2', [`addr add ${T2}/24 dev eth0`, 'link set eth0 up']);
    await must('ip', ['netns', 'exec', nsName('a'), 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    for (const [t, ip] of [['t1', T1], ['t2', T2]] as const) {
      const dir = path.join(www, t, 'cgi-bin');
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'who'), `#!/bin/sh\necho 'Content-Type: text/plain'\necho\necho "${t} $REMOTE_ADDR"\n`, { mode: 0o755 });
      children.push(spawn('ip', ['netns', 'exec', nsName(t), '/bin/busybox', 'httpd', '-f', '-p', `${ip}:80`, '-h', path.join(www, t)], { stdio: 'ignore' }));
      const echo = `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('${t} '+r.address,r.port,r.address));s.bind(7);`;
      children.push(spawn('ip', ['netns', 'exec', nsName(t), process.execPath, '-e', echo], { stdio: 'ignore' }));
    }
    await new Promise((r) => setTimeout(r, 500));
    await nftApply(ingressTableScript(model([T1, T2])), { netns: `/run/netns/${nsName('a')}` });
  });

  after(async () => {
    for (const c of children) if (c.pid !== undefined) c.kill('SIGKILL');
    await Promise.all(children.map(async (c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
    for (const n of made.reverse()) await sh('ip', ['netns', 'del', nsName(n)]);
    if (www) fs.rmSync(www, { recursive: true, force: true });
  });

  it('spreads connections to the node’s published port over the local and the remote task; the local task sees the client’s address, the remote one the node’s ingress address', async (t) => {
    const got = tally(await fetchMany('client', NODE, 200));
    t.diagnostic(`200 fetches from outside: ${JSON.stringify(got)}`);
    assert.deepEqual(Object.keys(got).sort(), [`t1 ${CLIENT}`, `t2 ${NODE_INGRESS}`]);
    for (const n of Object.values(got)) assert.ok(Math.abs(n - 100) <= 30, JSON.stringify(got));
  });

  it('answers the node itself on its own address', async () => {
    const got = tally(await fetchMany('a', NODE, 20));
    assert.equal(got['fail'], undefined, JSON.stringify(got));
    assert.deepEqual(Object.keys(got).map((k) => k.split(' ')[0]).sort(), ['t1', 't2']);
  });

  it('carries UDP to the published port', async () => {
    const js = `const dgram=require('dgram');const seen=new Set();for(let i=0;i<20;i++){const c=dgram.createSocket('udp4');c.on('message',(m)=>{seen.add(String(m).split(' ')[0]);c.close();});c.send('hi',${PUBLISHED},'${NODE}');}setTimeout(()=>{console.log([...seen].sort().join(',')||'none');process.exit(0);},2000);`;
    const out = await must('ip', ['netns', 'exec', nsName('client'), process.execPath, '-e', js], { timeoutMs: 20_000 });
    assert.equal(out.trim(), 't1,t2');
  });

  it('a task removed gets no new connection, with no failure (one change: its chain and the remote set)', async () => {
    const change = ingressChangesScript(model([T1, T2]), model([T1]));
    assert.match(change, /flush chain ip berth_ingress ing_tcp_30080/);
    assert.match(change, /delete element ip berth_ingress remote \{ 10\.255\.0\.6 \}/);
    await nftApply(change, { netns: `/run/netns/${nsName('a')}` });
    const got = tally(await fetchMany('client', NODE, 50));
    assert.deepEqual(got, { [`t1 ${CLIENT}`]: 50 });
  });
});
