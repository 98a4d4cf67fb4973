import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseProcNetRoute } from '../../src/kernel/routes.js';

// As this kernel prints it (x86, little-endian), with an unreachable route and a host route added.
const PROC_NET_ROUTE = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
br-1a2b3c4d5e6f\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
*\t0000000A\t00000000\t0201\t0\t0\t0\t000000FF\t0\t0\t0
eth0\t0A0B0C0D\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
`;

describe('/proc/net/route', () => {
  it('reads destinations, prefixes and devices as `ip -4 route show` lists them, without the default route', () => {
    assert.deepEqual(parseProcNetRoute(PROC_NET_ROUTE, true), [
      { dst: '192.0.2.0/24', dev: 'eth0' },
      { dst: '172.18.0.0/16', dev: 'br-1a2b3c4d5e6f' },
      { dst: '10.0.0.0/8', dev: undefined },
      { dst: '13.12.11.10/32', dev: 'eth0' },
    ]);
  });

  it('reads the words in host order on a big-endian machine', () => {
    assert.deepEqual(parseProcNetRoute('Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\neth0\tC0000200\t00000000\t0001\t0\t0\t0\tFFFFFF00\n', false), [
      { dst: '192.0.2.0/24', dev: 'eth0' },
    ]);
  });

  it('agrees with `ip -4 route show` on this machine (read only)', () => {
    const ip = JSON.parse(execFileSync('ip', ['-json', '-4', 'route', 'show'], { encoding: 'utf8' })) as { dst: string; dev?: string }[];
    const want = ip.filter((r) => r.dst !== 'default').map((r) => `${r.dst.includes('/') ? r.dst : `${r.dst}/32`} ${r.dev ?? '-'}`);
    const got = parseProcNetRoute(readFileSync('/proc/net/route', 'utf8')).map((r) => `${r.dst} ${r.dev ?? '-'}`);
    assert.deepEqual(got.sort(), want.sort());
  });
});
