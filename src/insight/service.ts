/** berth's views inside, as the API asks them: each gathers now, through the Kernel port and the model, and judges purely. */
import type { SwarmState } from '../cluster/swarm-state.js';
import type { Kernel } from '../kernel/port.js';
import type { NetworkController } from '../network/controller.js';
import { diagnose, type Report } from './doctor.js';
import { gatherFacts } from './facts.js';
import { buildTopology, type Topology, type TopologyFilter } from './topology.js';
import { gatherTopology } from './topology-gather.js';
import { explainTrace, type TraceResult } from './trace.js';
import { planTrace } from './trace-plan.js';

export interface Insight {
  doctor(): Promise<Report>;
  topology(filter: TopologyFilter): Promise<Topology>;
  /** Send (or await) one flow's packet and tell its path. */
  trace(from: string, to: string, waitMs: number): Promise<TraceResult>;
}

export interface InsightDeps {
  kernel: Kernel;
  networks: NetworkController;
  swarm: SwarmState;
  /** Whether berth runs its firewall (it does unless --iptables=false). */
  firewallEnforcing: boolean;
  /** Container ID → name, for the containers the engine has. */
  containerNames(): ReadonlyMap<string, string>;
}

export function insight(d: InsightDeps): Insight {
  return {
    doctor: async () => diagnose(await gatherFacts(d)),
    topology: async (filter) => buildTopology(await gatherTopology(d), filter),
    trace: async (from, to, waitMs) => {
      const plan = planTrace(from, to, d.networks.topologyModel(), d.containerNames(), waitMs);
      return explainTrace(plan.flow, await d.kernel.traceFlow(plan.spec), plan.names);
    },
  };
}
