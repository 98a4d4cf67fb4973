import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeCommands, type LinkInfo } from '../../src/kernel/links.js';

const SPEC = { name: 'br-app', mtu: 1500, addresses: ['172.18.0.1/16', 'fd00:18::1/64'] };

describe('bridgeCommands', () => {
  it('makes a new bridge with its gateways; the IPv6 one without DAD, so it is never tentative', () => {
    assert.deepEqual(bridgeCommands(SPEC), [
      'link add name br-app type bridge',
      'link set dev br-app mtu 1500 alias berth',
      'addr replace 172.18.0.1/16 dev br-app',
      'addr replace fd00:18::1/64 dev br-app nodad',
      'link set dev br-app up',
    ]);
  });

  it('completes an existing bridge: only what it lacks, and never the alias of a bridge berth did not make', () => {
    const existing: LinkInfo = { name: 'br-app', kind: 'bridge', mtu: 1400, up: true, ownedByBerth: false, addresses: ['172.18.0.1/16'], master: undefined };
    assert.deepEqual(bridgeCommands(SPEC, existing), ['addr replace fd00:18::1/64 dev br-app nodad']);
    assert.deepEqual(bridgeCommands(SPEC, { ...existing, ownedByBerth: true, up: false, addresses: [...SPEC.addresses] }), [
      'link set dev br-app mtu 1500',
      'link set dev br-app up',
    ]);
  });
});
