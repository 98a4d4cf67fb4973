import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError, type ErrorKind } from '../../src/errors.js';
import {
  addressesOverlap,
  allocatePorts,
  heldBy,
  newPortAllocator,
  releasePorts,
  restorePortAllocator,
  type PortAllocatorState,
  type PortSpec,
} from '../../src/network/ports/index.js';

function throwsKind(fn: () => unknown, kind: ErrorKind, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), `a BerthError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    assert.equal(e.message, message);
    return true;
  });
}

const req = (proto: PortSpec['proto'], hostIp: string, h: [number, number], c: [number, number]): PortSpec => ({
  proto,
  hostIp,
  hostPorts: { start: h[0], end: h[1] },
  containerPorts: { start: c[0], end: c[1] },
});
const exact = (hostIp: string, port: number, proto: PortSpec['proto'] = 'tcp'): PortSpec => req(proto, hostIp, [port, port], [80, 80]);
const ephemeral = (n = 1, hostIp = ''): PortSpec => req('tcp', hostIp, [0, 0], [80, 80 + n - 1]);

const roundTrip = (s: PortAllocatorState): PortAllocatorState => JSON.parse(JSON.stringify(s)) as PortAllocatorState;

describe('addressesOverlap', () => {
  it("'' overlaps everything; 0.0.0.0 and :: their family; specific ones themselves", () => {
    assert.ok(addressesOverlap('', '::1'));
    assert.ok(addressesOverlap('0.0.0.0', '127.0.0.1'));
    assert.ok(!addressesOverlap('0.0.0.0', '::'));
    assert.ok(addressesOverlap('::', 'fd00::1'));
    assert.ok(!addressesOverlap('::', '127.0.0.1'));
    assert.ok(!addressesOverlap('127.0.0.1', '192.0.2.1'));
    assert.ok(addressesOverlap('192.0.2.1', '192.0.2.1'));
  });
});

describe('allocatePorts', () => {
  it('gives exact ports and refuses a second holder with Docker text', () => {
    let s = newPortAllocator();
    const r = allocatePorts(s, 'c1', [exact('', 8080)]);
    assert.deepEqual(r.mappings, [exact('', 8080)]);
    s = r.state;
    throwsKind(() => allocatePorts(s, 'c2', [exact('', 8080)]), 'Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated');
    throwsKind(() => allocatePorts(s, 'c2', [exact('127.0.0.1', 8080)]), 'Conflict', 'Bind for 127.0.0.1:8080 failed: port is already allocated');
    throwsKind(() => allocatePorts(s, 'c2', [exact('::1', 8080)]), 'Conflict', 'Bind for [::1]:8080 failed: port is already allocated');
    // Other protocol: no conflict.
    assert.equal(allocatePorts(s, 'c2', [exact('', 8080, 'udp')]).mappings.length, 1);
  });

  it('lets specific addresses share a port, and wildcards of the other family too', () => {
    let s = newPortAllocator();
    s = allocatePorts(s, 'a', [exact('127.0.0.1', 8080)]).state;
    s = allocatePorts(s, 'b', [exact('192.0.2.1', 8080)]).state;
    s = allocatePorts(s, 'c', [exact('::', 8080)]).state;
    throwsKind(() => allocatePorts(s, 'd', [exact('0.0.0.0', 8080)]), 'Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated');
    throwsKind(() => allocatePorts(s, 'd', [exact('', 8080)]), 'Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated');
    // Every address, but only [::] is taken: the message names that one.
    const v6 = allocatePorts(newPortAllocator(), 'a', [exact('::', 8602)]).state;
    throwsKind(() => allocatePorts(v6, 'b', [exact('', 8602)]), 'Conflict', 'Bind for [::]:8602 failed: port is already allocated');
  });

  it('checks ranges against ranges and names the first clashing port', () => {
    let s = newPortAllocator();
    s = allocatePorts(s, 'a', [req('tcp', '', [8500, 8600], [8500, 8600])]).state;
    throwsKind(
      () => allocatePorts(s, 'b', [req('tcp', '', [8000, 8999], [80, 1079])]),
      'Conflict',
      'Bind for 0.0.0.0:8500 failed: port is already allocated',
    );
  });

  it('is all or nothing, and conflicts within one request count', () => {
    const s = newPortAllocator();
    throwsKind(() => allocatePorts(s, 'a', [exact('', 8080), exact('', 8080)]), 'Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated');
    assert.deepEqual(s.allocations, []);
  });

  it('hands out ephemeral ports round robin from 32768, a contiguous block for a range', () => {
    let s = newPortAllocator();
    let r = allocatePorts(s, 'a', [ephemeral()]);
    assert.deepEqual(r.mappings[0]?.hostPorts, { start: 32768, end: 32768 });
    s = r.state;
    r = allocatePorts(s, 'b', [ephemeral(1000)]);
    assert.deepEqual(r.mappings[0]?.hostPorts, { start: 32769, end: 33768 });
    assert.deepEqual(r.mappings[0]?.containerPorts, { start: 80, end: 1079 });
    s = releasePorts(r.state, 'a');
    // 32768 is free again but the cursor has moved on.
    assert.deepEqual(allocatePorts(s, 'c', [ephemeral()]).mappings[0]?.hostPorts, { start: 33769, end: 33769 });
  });

  it('skips held ports and busy ones, and wraps around the range', () => {
    let s = newPortAllocator({ start: 40000, end: 40009 });
    s = allocatePorts(s, 'a', [exact('', 40002)]).state;
    const r = allocatePorts(s, 'b', [ephemeral(3)], [{ proto: 'tcp', hostIp: '', port: 40000 }]);
    assert.deepEqual(r.mappings[0]?.hostPorts, { start: 40003, end: 40005 });
    s = allocatePorts(r.state, 'c', [ephemeral(4)]).state; // 40006-40009
    assert.equal(s.next, 40000);
    // Only 40000-40001 are left.
    assert.deepEqual(allocatePorts(s, 'd', [ephemeral(2)]).mappings[0]?.hostPorts, { start: 40000, end: 40001 });
    throwsKind(() => allocatePorts(s, 'd', [ephemeral(3)]), 'Unavailable', 'all ports are allocated');
  });

  it('picks the first free port of a host range for one container port', () => {
    let s = newPortAllocator();
    s = allocatePorts(s, 'a', [exact('', 8000), exact('', 8001)]).state;
    const r = allocatePorts(s, 'b', [req('tcp', '', [8000, 8010], [80, 80])]);
    assert.deepEqual(r.mappings, [req('tcp', '', [8002, 8002], [80, 80])]);
    throwsKind(() => allocatePorts(s, 'b', [req('tcp', '', [8000, 8001], [80, 80])]), 'Unavailable', 'all ports are allocated');
  });
});

describe('state', () => {
  it('survives JSON and is restored from stored mappings', () => {
    let s = newPortAllocator();
    const a = allocatePorts(s, 'a', [exact('', 8080), ephemeral(10)]);
    s = roundTrip(a.state);
    assert.deepEqual(s, a.state);
    const restored = restorePortAllocator([{ owner: 'a', mappings: a.mappings }]);
    assert.deepEqual(heldBy(restored, 'a'), heldBy(s, 'a'));
    throwsKind(() => allocatePorts(restored, 'b', [exact('', 8080)]), 'Conflict', 'Bind for 0.0.0.0:8080 failed: port is already allocated');
  });

  it('release is idempotent and leaves other owners alone', () => {
    let s = newPortAllocator();
    s = allocatePorts(s, 'a', [exact('', 1)]).state;
    s = allocatePorts(s, 'b', [exact('', 2)]).state;
    const once = releasePorts(s, 'a');
    assert.equal(releasePorts(once, 'a'), once);
    assert.deepEqual(
      once.allocations.map((x) => x.owner),
      ['b'],
    );
  });

  it('allocation work does not depend on the size of a range', () => {
    // A 1000-port range is one allocation entry.
    const r = allocatePorts(newPortAllocator(), 'a', [req('tcp', '', [10000, 10999], [10000, 10999])]);
    assert.equal(r.state.allocations.length, 1);
  });
});
