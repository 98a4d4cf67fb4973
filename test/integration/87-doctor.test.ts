/**
 * `berth doctor` on a real host (a World): all well on a fresh daemon with a running
 * container; then each kind of trouble made for real in the daemon's namespace — IPv4
 * forwarding switched off, another tool's table dropping forwarded packets, a
 * container's link deleted, a stray link marked as berth's — is found, explained, and
 * turns the exit status to failure; mended, all is well again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Check, Report } from '../../src/insight/doctor.js';
import { must } from '../lib/world.js';
import { World } from '../lib/world.js';

describe('berth doctor', () => {
  let w: World;
  before(async () => {
    w = await World.create();
    await w.dockerOk('network', 'create', 'app');
    await w.dockerOk('run', '-d', '--name', 'web', '--network', 'app', 'busybox', 'sleep', '3600');
  });
  after(async () => {
    await w.dispose();
  });

  const doctor = async (): Promise<{ code: number; report: Report }> => {
    const r = await w.berth('doctor', '--format', 'json');
    return { code: r.code, report: JSON.parse(r.stdout) as Report };
  };
  const check = (r: Report, id: string): Check | undefined => r.checks.find((c) => c.id === id);
  const failures = (r: Report): string[] => r.checks.filter((c) => c.verdict === 'fail').map((c) => c.id);

  it('finds all well on a fresh daemon, and names what this kernel lacks', async () => {
    const { code, report } = await doctor();
    assert.deepEqual(failures(report), []);
    assert.equal(code, 0);
    assert.equal(check(report, 'forwarding:ipv4')?.verdict, 'ok');
    assert.equal(check(report, 'firewall')?.verdict, 'ok');
    assert.match(check(report, 'drift')?.summary ?? '', /exactly the \d+ links/);
    // This machine's kernel has no ipvlan: said with what it takes away (the probe, not a list, decides).
    const features = await w.berth('doctor');
    assert.match(features.stdout, /All is well/);
    if (check(report, 'kernel:ipvlan')) assert.equal(check(report, 'kernel:ipvlan')?.hint, 'ipvlan networks cannot be made');
  });

  it('fails on IPv4 forwarding switched off, and explains it', async () => {
    await must('ip', ['netns', 'exec', w.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    try {
      const r = await w.berth('doctor');
      assert.equal(r.code, 1);
      assert.match(r.stdout, /\[FAIL\] IPv4 forwarding is off \(net\.ipv4\.ip_forward=0\)\n {7}containers cannot reach other networks/);
      assert.match(r.stdout, /1 problem found\./);
    } finally {
      await must('ip', ['netns', 'exec', w.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    }
    assert.equal((await doctor()).code, 0);
  });

  it('fails on another tool’s table that drops forwarded packets (iptables FORWARD policy DROP)', async () => {
    await must('ip', ['netns', 'exec', w.ns, 'nft', 'add table ip filter; add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }']);
    try {
      const { code, report } = await doctor();
      assert.equal(code, 1);
      assert.deepEqual(failures(report), ['foreign-firewall:ip filter']);
      assert.match(check(report, 'foreign-firewall:ip filter')?.hint ?? '', /any drop wins/);
    } finally {
      await must('ip', ['netns', 'exec', w.ns, 'nft', 'delete table ip filter']);
    }
    assert.equal((await doctor()).code, 0);
  });

  it('finds drift between the model and the kernel: a container’s link gone, a stray link marked as berth’s', async () => {
    const veth = (await w.inNs(w.ns, ['ip', '-o', 'link', 'show', 'master', (await bridgeOf(w, 'app'))])).stdout.split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).find((n) => n?.startsWith('veth'));
    assert.ok(veth, 'the container’s host-side link');
    await must('ip', ['-n', w.ns, 'link', 'add', 'stray0', 'type', 'bridge']);
    await must('ip', ['-n', w.ns, 'link', 'set', 'stray0', 'alias', 'berth']);
    await must('ip', ['-n', w.ns, 'link', 'del', veth]);
    const { code, report } = await doctor();
    assert.equal(code, 1);
    assert.match(check(report, 'drift:missing')?.summary ?? '', new RegExp(`${veth} \\(web on app\\)`));
    assert.match(check(report, 'drift:extra')?.summary ?? '', /stray0/);
    await must('ip', ['-n', w.ns, 'link', 'del', 'stray0']);
    await w.dockerOk('restart', '-t', '0', 'web');
    assert.deepEqual(failures((await doctor()).report), [], 'a restart makes the container’s link again');
  });
});

/** A user network's bridge (br-<id12>). */
async function bridgeOf(w: World, network: string): Promise<string> {
  return `br-${(await w.dockerOk('network', 'inspect', '-f', '{{.Id}}', network)).slice(0, 12)}`;
}
