import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isBerthError } from '../../src/errors.js';
import {
  compressSpecs,
  expandMappings,
  formatMapping,
  parseExposedPorts,
  parseHostIp,
  parsePortBindings,
  parsePortKey,
  resolveHostIp,
  type PortBindingsJson,
  type PortSpec,
} from '../../src/network/ports/index.js';

function invalidWith(fn: () => unknown, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isBerthError(e), `a BerthError, got ${String(e)}`);
    assert.equal(e.kind, 'InvalidParameter');
    assert.equal(e.message, message);
    return true;
  });
}

const spec = (proto: PortSpec['proto'], hostIp: string, h: [number, number], c: [number, number]): PortSpec => ({
  proto,
  hostIp,
  hostPorts: { start: h[0], end: h[1] },
  containerPorts: { start: c[0], end: c[1] },
});

/** What the docker CLI sends for `-p [ip:]HOST-RANGE:CONTAINER-RANGE`: one key per port. */
function cliExpanded(hostIp: string, hostStart: number | undefined, containerStart: number, n: number, proto = 'tcp'): PortBindingsJson {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (let i = 0; i < n; i++) {
    out[`${containerStart + i}/${proto}`] = [{ HostIp: hostIp, HostPort: hostStart === undefined ? '' : String(hostStart + i) }];
  }
  return out;
}

describe('parsePortKey', () => {
  it('reads port, range and protocol (tcp by default, case-insensitive)', () => {
    assert.deepEqual(parsePortKey('80/tcp'), { proto: 'tcp', ports: { start: 80, end: 80 } });
    assert.deepEqual(parsePortKey('53'), { proto: 'tcp', ports: { start: 53, end: 53 } });
    assert.deepEqual(parsePortKey('53/UDP'), { proto: 'udp', ports: { start: 53, end: 53 } });
    assert.deepEqual(parsePortKey('80-90/sctp'), { proto: 'sctp', ports: { start: 80, end: 90 } });
  });

  it("refuses what moby refuses, with moby's words", () => {
    invalidWith(() => parsePortKey('0/tcp'), 'invalid port specification: "0"');
    invalidWith(() => parsePortKey('65536/tcp'), 'invalid port specification: "65536"');
    invalidWith(() => parsePortKey('90-80/tcp'), 'invalid port specification: "90-80"');
    invalidWith(() => parsePortKey('http/tcp'), 'invalid port specification: "http"');
    invalidWith(() => parsePortKey('80/icmp'), 'invalid proto: icmp');
  });
});

describe('parseHostIp', () => {
  it('keeps "" for all addresses and canonicalises the rest', () => {
    assert.equal(parseHostIp(''), '');
    assert.equal(parseHostIp('0.0.0.0'), '0.0.0.0');
    assert.equal(parseHostIp('::'), '::');
    assert.equal(parseHostIp('[FD00::0001]'), 'fd00::1');
    assert.equal(parseHostIp('::ffff:127.0.0.1'), '127.0.0.1');
  });

  it('refuses a bad address', () => {
    invalidWith(() => parseHostIp('127.0.0.256'), 'invalid IP address: 127.0.0.256');
    invalidWith(() => parseHostIp('localhost'), 'invalid IP address: localhost');
  });
});

describe('parsePortBindings', () => {
  it('reads -p 8080:80, -p 127.0.0.1:53:53/udp and an ephemeral -p 443', () => {
    const got = parsePortBindings({
      '80/tcp': [{ HostIp: '', HostPort: '8080' }],
      '53/udp': [{ HostIp: '127.0.0.1', HostPort: '53' }],
      '443/tcp': [{ HostIp: '', HostPort: '' }],
    });
    assert.deepEqual(got, [spec('tcp', '', [0, 0], [443, 443]), spec('tcp', '', [8080, 8080], [80, 80]), spec('udp', '127.0.0.1', [53, 53], [53, 53])]);
  });

  it('re-compresses the CLI expansion of -p 8000-8999:80-1079 into one range', () => {
    assert.deepEqual(parsePortBindings(cliExpanded('', 8000, 80, 1000)), [spec('tcp', '', [8000, 8999], [80, 1079])]);
  });

  it('re-compresses -p 20000-20999:20000-20999/udp and an ephemeral -p 80-90', () => {
    assert.deepEqual(parsePortBindings(cliExpanded('', 20000, 20000, 1000, 'udp')), [spec('udp', '', [20000, 20999], [20000, 20999])]);
    assert.deepEqual(parsePortBindings(cliExpanded('', undefined, 80, 11)), [spec('tcp', '', [0, 0], [80, 90])]);
  });

  it('splits where the offset changes, the address or protocol differs, or a port is missing', () => {
    const got = parsePortBindings({
      '80/tcp': [{ HostPort: '8080' }],
      '81/tcp': [{ HostPort: '8081' }],
      '82/tcp': [{ HostPort: '9082' }],
      '83/tcp': [{ HostIp: '127.0.0.1', HostPort: '9083' }],
      '84/udp': [{ HostPort: '9084' }],
      '86/tcp': [{ HostPort: '9086' }],
    });
    assert.deepEqual(got, [
      spec('tcp', '', [8080, 8081], [80, 81]),
      spec('tcp', '', [9082, 9082], [82, 82]),
      spec('tcp', '', [9086, 9086], [86, 86]),
      spec('tcp', '127.0.0.1', [9083, 9083], [83, 83]),
      spec('udp', '', [9084, 9084], [84, 84]),
    ]);
  });

  it('keeps a host range for one container port as a pool (-p 8000-8010:80)', () => {
    assert.deepEqual(parsePortBindings({ '80/tcp': [{ HostPort: '8000-8010' }] }), [spec('tcp', '', [8000, 8010], [80, 80])]);
  });

  it('accepts range keys (berth clients may send them uncompressed)', () => {
    assert.deepEqual(parsePortBindings({ '80-89/tcp': [{ HostPort: '8080-8089' }] }), [spec('tcp', '', [8080, 8089], [80, 89])]);
    invalidWith(
      () => parsePortBindings({ '80-89/tcp': [{ HostPort: '8080-8085' }] }),
      'invalid ranges specified for container and host Ports: 80-89 and 8080-8085',
    );
  });

  it('drops an exact duplicate but keeps two ephemeral bindings of one port', () => {
    assert.equal(parsePortBindings({ '80/tcp': [{ HostPort: '8080' }, { HostPort: '8080' }] }).length, 1);
    assert.equal(parsePortBindings({ '80/tcp': [{ HostPort: '' }, { HostPort: '' }] }).length, 2);
  });

  it('publishes every exposed port without a binding on -P', () => {
    const got = parsePortBindings({ '80/tcp': [{ HostPort: '8080' }] }, { '80/tcp': {}, '443/tcp': {}, '444/tcp': {}, '53/udp': {} }, true);
    assert.deepEqual(got, [spec('tcp', '', [0, 0], [443, 444]), spec('tcp', '', [8080, 8080], [80, 80]), spec('udp', '', [0, 0], [53, 53])]);
    assert.deepEqual(parsePortBindings(null, { '80/tcp': {} }, false), []);
  });

  it('refuses bad host ports and addresses with Docker messages', () => {
    invalidWith(() => parsePortBindings({ '80/tcp': [{ HostPort: '65536' }] }), 'invalid port specification: "65536"');
    invalidWith(() => parsePortBindings({ '80/tcp': [{ HostPort: '9000-8000' }] }), 'invalid port specification: "9000-8000"');
    invalidWith(() => parsePortBindings({ '80/tcp': [{ HostPort: 'x' }] }), 'invalid port specification: "x"');
    invalidWith(() => parsePortBindings({ '80/tcp': [{ HostIp: '1.2.3', HostPort: '80' }] }), 'invalid IP address: 1.2.3');
    invalidWith(() => parsePortBindings({ '0/tcp': [{ HostPort: '80' }] }), 'invalid port specification: "0"');
  });

  it('treats HostPort "0" as ephemeral', () => {
    assert.deepEqual(parsePortBindings({ '80/tcp': [{ HostPort: '0' }] }), [spec('tcp', '', [0, 0], [80, 80])]);
  });
});

describe('helpers', () => {
  it('compressSpecs is order-independent', () => {
    const a = [spec('tcp', '', [8001, 8001], [81, 81]), spec('tcp', '', [8000, 8000], [80, 80])];
    assert.deepEqual(compressSpecs(a), [spec('tcp', '', [8000, 8001], [80, 81])]);
  });

  it('parseExposedPorts compresses', () => {
    assert.deepEqual(parseExposedPorts({ '80/tcp': {}, '81/tcp': {}, '53/udp': {} }), [
      { proto: 'tcp', ports: { start: 80, end: 81 } },
      { proto: 'udp', ports: { start: 53, end: 53 } },
    ]);
  });

  it('resolveHostIp applies host_binding_ipv4 only when the request names no address', () => {
    assert.equal(resolveHostIp('', '0.0.0.0'), '');
    assert.equal(resolveHostIp('', '127.0.0.1'), '127.0.0.1');
    assert.equal(resolveHostIp('::1', '127.0.0.1'), '::1');
  });

  it('expandMappings and formatMapping give the per-port and docker ps views', () => {
    const m = spec('tcp', '', [8000, 8001], [80, 81]);
    assert.deepEqual(expandMappings([m]), [
      { proto: 'tcp', hostIp: '', hostPort: 8000, containerPort: 80 },
      { proto: 'tcp', hostIp: '', hostPort: 8001, containerPort: 81 },
    ]);
    assert.equal(formatMapping(m), '0.0.0.0:8000-8001->80-81/tcp');
    assert.equal(formatMapping(spec('udp', '::1', [53, 53], [53, 53])), '[::1]:53->53/udp');
  });
});
