import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseU32 } from '../../src/kernel/tc.js';
import { DirectPath, tidyUnderlay, u32Prefix } from '../../src/network/drivers/overlay/direct-path.js';

/** `tc filter show dev … egress` and `… ingress` as iproute2 6.1 wrote them on this kernel. */
const EGRESS = `filter protocol ip pref 1 u32 chain 0 
filter protocol ip pref 1 u32 chain 0 fh 1: ht divisor 256 
filter protocol ip pref 1 u32 chain 0 fh 1:4:2 order 2 key ht 1 bkt 4 terminal flowid not_in_hw 
  match 0a000104/ffffffff at 16
\taction order 1: mirred (Egress Redirect to device u0) stolen
\tindex 1 ref 1 bind 1

filter protocol ip pref 1 u32 chain 0 fh 800: ht divisor 1 
filter protocol ip pref 1 u32 chain 0 fh 800::1 order 1 key ht 800 bkt 0 link 1: not_in_hw 
  match 0a000100/ffffff00 at 16
    hash mask 000000ff at 16 
`;
const INGRESS_GONE = `filter protocol ip pref 179 u32 chain 0 
filter protocol ip pref 179 u32 chain 0 fh 800: ht divisor 1 
filter protocol ip pref 179 u32 chain 0 fh 800::800 order 2048 key ht 800 bkt 0 terminal flowid not_in_hw 
  match 0a000100/ffffff00 at 12
  match 0a000100/ffffff00 at 16
\taction order 1: mirred (Ingress Redirect to device *) stolen
\tindex 2 ref 1 bind 1
`;

const BPF = `filter protocol all pref 49152 bpf chain 0 
filter protocol all pref 49152 bpf chain 0 handle 0x1 prog.o:[tc] direct-action not_in_hw id 12 tag 0123456789abcdef jited 
`;

describe('tc u32 filters', () => {
  it('reads each filter’s handle, keys and redirect from tc’s text, a redirect to a link gone as none', () => {
    assert.deepEqual(parseU32(EGRESS), [
      { prio: 1, kind: 'u32', handle: '1:', matches: [] },
      { prio: 1, kind: 'u32', handle: '1:4:2', matches: [{ value: '0a000104', mask: 'ffffffff', at: 16 }], redirect: { side: 'egress', dev: 'u0' } },
      { prio: 1, kind: 'u32', handle: '800:', matches: [] },
      { prio: 1, kind: 'u32', handle: '800:0:1', matches: [{ value: '0a000100', mask: 'ffffff00', at: 16 }] },
    ]);
    // Bucket 0 written as tc writes it (`800::800`) reads as the handle berth makes (`800:0:800`).
    assert.deepEqual(parseU32(INGRESS_GONE).at(-1), { prio: 179, kind: 'u32', handle: '800:0:800', matches: [u32Prefix('10.0.1.0/24', 12), u32Prefix('10.0.1.0/24', 16)], redirect: { side: 'ingress', dev: undefined } });
    assert.deepEqual(parseU32(''), []);
    // Another program's filter of another kind counts (berth must not take its qdisc away).
    assert.deepEqual(parseU32(BPF), [{ prio: 49152, kind: 'bpf', handle: '0x1', matches: [] }]);
  });

  it('gives every address of a /13 that shares a bucket a handle of its own, and each subnet a table of its own', () => {
    const path = new DirectPath('vx', ['10.8.0.0/13', '172.16.0.0/24']);
    const handle = (ip: string): string => /handle (\S+)/.exec(path.send(ip, 'eth0')[0]!)![1]!;
    const handles = new Set<string>();
    for (let i = 0; i < 2048; i++) handles.add(handle(`10.${8 + (i >> 8)}.${i & 0xff}.7`));
    assert.equal(handles.size, 2048);
    assert.ok([...handles].every((h) => /^1:7:[0-9a-f]{1,3}$/.test(h) && h !== '1:7:0'), [...handles].slice(0, 3).join());
    // The same last byte and middle bits in the other subnet: its own table.
    assert.equal(handle('10.8.0.5'), '1:5:1');
    assert.equal(handle('172.16.0.5'), '2:5:1');
    assert.deepEqual(path.send('192.168.0.1', 'eth0'), [], 'an address outside the subnets has no filter');
    assert.throws(() => new DirectPath('vx', ['10.0.0.0/12']), /needs subnets of \/13 or smaller/);
  });

  it('takes berth’s priority off the underlay link with its last filter, and the qdisc only when nothing of anyone’s is left', () => {
    const root = { prio: 179, kind: 'u32', handle: '800:', matches: [] };
    const key = { ...root, handle: '800:0:800', redirect: { side: 'ingress' as const, dev: 'vx-001001' } };
    assert.deepEqual(tidyUnderlay('eth0', [root, key], []), []);
    assert.deepEqual(tidyUnderlay('eth0', [root], []), ['filter del dev eth0 ingress prio 179 protocol ip u32', 'qdisc del dev eth0 clsact']);
    assert.deepEqual(tidyUnderlay('eth0', [], []), ['qdisc del dev eth0 clsact']);
    assert.deepEqual(tidyUnderlay('eth0', [root, ...parseU32(BPF)], []), ['filter del dev eth0 ingress prio 179 protocol ip u32']);
    assert.deepEqual(tidyUnderlay('eth0', [], parseU32(BPF)), []);
  });
});
