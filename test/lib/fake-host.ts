/**
 * A daemon's network side on the fake kernel, for unit tests: the controller over a
 * MemoryStore and a FakeKernel that share one Faults counter. `restart()` is a new
 * controller over what was committed and what the kernel holds, as after kill -9.
 */
import { NetworkController, type ControllerConfig } from '../../src/network/controller.js';
import { firewallBackend } from '../../src/network/firewall/backend.js';
import { DEFAULT_ADDRESS_POOLS } from '../../src/network/ipam/index.js';
import type { JoinRequest } from '../../src/network/model.js';
import type { PortSpec } from '../../src/network/ports/index.js';
import { FakeKernel, Faults } from './fake-kernel.js';
import { MemoryStore } from './memory-store.js';

export const SANDBOX_DIR = '/fake/exec/netns';

export class FakeHost {
  readonly logs: string[] = [];

  private constructor(
    readonly kernel: FakeKernel,
    readonly store: MemoryStore,
    readonly networks: NetworkController,
  ) {}

  static async start(kernel = new FakeKernel(new Faults()), store = new MemoryStore(new Map(), kernel.faults)): Promise<FakeHost> {
    const logs: string[] = [];
    const config: ControllerConfig = {
      kernel,
      driverContext: { defaultMtu: 1500, log: (m) => logs.push(m) },
      bridge: undefined,
      addressPools: DEFAULT_ADDRESS_POOLS,
      bip: undefined,
      sandboxDir: SANDBOX_DIR,
      sandboxPool: { size: 0 },
      firewall: firewallBackend({ enabled: true, userlandProxy: false, nft: kernel.nft, log: (m) => logs.push(m) }),
      brNetfilter: false,
      log: (m) => logs.push(m),
    };
    const networks = await NetworkController.start(store, config);
    const host = new FakeHost(kernel, store, networks);
    host.logs.push(...logs);
    return host;
  }

  get faults(): Faults {
    return this.kernel.faults;
  }

  /** The daemon after a crash: the same kernel, the committed store, a fresh count of steps. */
  async restart(): Promise<FakeHost> {
    this.faults.reset();
    this.kernel.daemonDied();
    return FakeHost.start(this.kernel, this.store.reopen(this.faults));
  }

  /** What a container start asks of the network: join, then publish through the gateway endpoint. */
  async attach(containerId: string, network: string, ports: PortSpec[] = []): Promise<void> {
    await this.networks.join(network, joinRequest(containerId));
    await this.networks.publish(containerId, ports);
  }

  /** Resolves once background work (firewall withdrawals, retired links) is done. */
  async settle(): Promise<void> {
    await this.kernel.links.retiredGone();
    await new Promise((r) => setImmediate(r));
  }
}

export function joinRequest(containerId: string, over: Partial<JoinRequest> = {}): JoinRequest {
  return { containerId, name: `c-${containerId.slice(0, 4)}`, aliases: [], ...over };
}

/** -p 8080:80/tcp */
export const PORT_8080: PortSpec = { proto: 'tcp', hostIp: '', hostPorts: { start: 8080, end: 8080 }, containerPorts: { start: 80, end: 80 } };

/** Run `work` until it ends or the faults freeze it (a crash): whichever comes first. */
export async function untilCrash(faults: Faults, work: () => Promise<unknown>): Promise<'done' | 'crashed'> {
  let crashed = false;
  const run = work().then(
    () => 'done' as const,
    (e: unknown) => {
      if (crashed) return 'crashed' as const;
      throw e;
    },
  );
  const watch = new Promise<'crashed'>((resolve) => {
    const poll = setInterval(() => {
      if (faults.crashed) {
        crashed = true;
        clearInterval(poll);
        resolve('crashed');
      }
    }, 1);
    void run.finally(() => clearInterval(poll));
  });
  return Promise.race([run, watch]);
}
