import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDaemonArgs, type DaemonOptions } from '../../src/daemon/options.js';

const parse = (...argv: string[]) => parseDaemonArgs(argv) as DaemonOptions;

describe('berthd flags', () => {
  it('--host-gateway-ip takes one IPv4 and one IPv6 address at most', () => {
    assert.deepEqual(parse().hostGatewayIps, []);
    assert.deepEqual(parse('--host-gateway-ip', '192.0.2.1', '--host-gateway-ip=2001:db8::1').hostGatewayIps, ['192.0.2.1', '2001:db8::1']);
    assert.throws(() => parse('--host-gateway-ip', '192.0.2.1', '--host-gateway-ip', '192.0.2.2'), { message: 'only one IPv4 host gateway IP address can be specified' });
    assert.throws(() => parse('--host-gateway-ip', 'gw'), { message: 'invalid IP address: gw' });
  });
});
