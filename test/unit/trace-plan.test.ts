/**
 * What `berth trace` asks the kernel for: a container's flow to a container on another
 * host, and, on a node whose VXLAN socket lives in a namespace of its own, that namespace
 * (the outer packets are followed there).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planTrace } from '../../src/insight/trace-plan.js';
import type { TopologyModel } from '../../src/network/topology-model.js';

const model = (dataPathNetns?: string): TopologyModel => ({
  networks: [{ id: 'n1', name: 'ov', driver: 'overlay', scope: 'swarm', links: ['ov-001001', 'vx-001001'], subnets: ['10.0.1.0/24'], gateways: ['10.0.1.1'], ipv6: false }],
  endpoints: [{ containerId: 'c1id', name: 'c1', networkId: 'n1', ifName: 'eth0', hostIfName: undefined, ipv4: '10.0.1.2/24', mac: '02:42:0a:00:01:02' }],
  sandboxes: [{ containerId: 'c1id', path: '/run/berth/netns/c1id' }],
  published: [],
  remote: [{ networkId: 'n1', endpointId: 'e2', containerId: 'c2id', name: 'c2', aliases: [], ipv4: '10.0.1.3', mac: '02:42:0a:00:01:03', node: '10.99.0.112' }],
  pools: [],
  underlayMtu: 1500,
  ...(dataPathNetns ? { dataPath: { netns: dataPathNetns, addr: '10.99.0.111', members: ['10.99.0.112'] } } : {}),
});
const names = new Map([['c1id', 'c1']]);

describe('berth trace’s plan', () => {
  it('sends from the container’s namespace to the remote container’s address', () => {
    const plan = planTrace('c1', 'c2', model(), names);
    assert.deepEqual(plan.spec, { from: '/run/berth/netns/c1id', src: '10.0.1.2', dst: '10.0.1.3', proto: 'icmp', port: undefined, waitMs: 5000 });
    assert.equal(plan.flow, 'c1 10.0.1.2 → c2 (on 10.99.0.112) 10.0.1.3/icmp');
  });

  it('follows the outer packets in the data path’s namespace where the node has one', () => {
    assert.equal(planTrace('c1', 'c2', model('/run/berth/data-path.netns'), names).spec.tunnelNetns, '/run/berth/data-path.netns');
  });
});
