import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { joinProblems } from '../../src/errors.js';
import { checkJoinRequest } from '../../src/network/endpoints.js';
import { createPool } from '../../src/network/ipam/index.js';
import type { NetworkId, NetworkRecord } from '../../src/network/model.js';
import { networkRecord } from '../lib/records.js';

function network(name: string, subnets: string[], predefined = false): NetworkRecord {
  const pools = subnets.map((subnet) => createPool({ subnet }));
  return networkRecord({ id: `${name}-id` as NetworkId, name, ipam: { driver: 'default', options: {}, pools }, predefined });
}

describe('endpoint settings checks', () => {
  const n1 = network('n1', ['10.30.0.0/24']);

  it('takes an address in a subnet of the network', () => {
    checkJoinRequest(n1, { containerId: 'c', name: 'u1', aliases: [], ipv4: '10.30.0.9' }, []);
  });

  it("refuses an address outside every subnet in Docker 29.1's words", () => {
    assert.throws(() => checkJoinRequest(n1, { containerId: 'c', name: 'u1', aliases: [], ipv4: '10.99.0.5' }, []), {
      message: 'invalid endpoint settings:\nno configured subnet contains IP address 10.99.0.5',
    });
  });

  it('lists several problems with markers, as moby joins them', () => {
    const bridge = network('bridge', ['172.17.0.0/16'], true);
    assert.throws(() => checkJoinRequest(bridge, { containerId: 'c', name: 'u1', aliases: ['a'], ipv4: '172.17.0.9' }, []), {
      message:
        'invalid endpoint settings:\n* user specified IP address is supported on user defined networks only\n' +
        '* network-scoped alias is supported only for containers in user defined networks',
    });
  });

  it('joinProblems: one problem bare, several as a list with nested lines indented', () => {
    assert.equal(joinProblems(['only one\n']), 'only one');
    assert.equal(joinProblems(['a:\nb', 'c']), '* a:\n\tb\n* c');
  });
});
