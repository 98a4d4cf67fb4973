import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseU32 } from '../../src/kernel/tc.js';
import { sendDirect, u32Prefix } from '../../src/network/drivers/overlay/direct-path.js';

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

describe('tc u32 filters', () => {
  it('reads each filter’s handle, keys and redirect from tc’s text, a redirect to a link gone as none', () => {
    assert.deepEqual(parseU32(EGRESS), [
      { prio: 1, handle: '1:', matches: [] },
      { prio: 1, handle: '1:4:2', matches: [{ value: '0a000104', mask: 'ffffffff', at: 16 }], redirect: { side: 'egress', dev: 'u0' } },
      { prio: 1, handle: '800:', matches: [] },
      { prio: 1, handle: '800::1', matches: [{ value: '0a000100', mask: 'ffffff00', at: 16 }] },
    ]);
    assert.deepEqual(parseU32(INGRESS_GONE).at(-1), { prio: 179, handle: '800::800', matches: [u32Prefix('10.0.1.0/24', 12), u32Prefix('10.0.1.0/24', 16)], redirect: { side: 'ingress', dev: undefined } });
    assert.deepEqual(parseU32(''), []);
  });

  it('gives every address of a /13 that shares a bucket a handle of its own', () => {
    const handles = new Set<string>();
    for (let i = 0; i < 2048; i++) handles.add(/handle (\S+)/.exec(sendDirect('vx', `10.${8 + (i >> 8)}.${i & 0xff}.7`, 'eth0'))![1]!);
    assert.equal(handles.size, 2048);
    assert.ok([...handles].every((h) => /^1:7:[0-9a-f]{1,3}$/.test(h) && h !== '1:7:0'), [...handles].slice(0, 3).join());
  });
});
