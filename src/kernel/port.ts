/**
 * The kernel as the network layer sees it: the one seam between berth's model and the
 * machine. `linuxKernel` (linux.ts) does it with iproute2, nft, /proc and sockets; unit
 * tests hand the controller, the drivers and Traffic a fake (test/lib/fake-kernel.ts)
 * that keeps a model of links and namespaces, records every change, and can be told to
 * fail at any step. Everything here may be called concurrently.
 */
import type { FdbEntry, NeighbourEntry } from './fdb.js';
import type { KernelFeatures } from './features.js';
import type { HeldSockets, HostSocketSpec } from './hostports.js';
import type { LinkInfo } from './links.js';
import type { GatewayRoute, RouteInfo } from './routes.js';
import type { NamespaceView } from './namespace-view.js';
import type { SysctlSetting } from './sysctl.js';
import type { TcSide, U32Filter } from './tc.js';
import type { PlanStep } from './wiring.js';
import type { XfrmPolicy, XfrmState } from './xfrm.js';

export type NftFamily = 'ip' | 'ip6' | 'inet' | 'bridge' | 'arp' | 'netdev';

/** One object of `nft -j list`: exactly one key (table, chain, rule, set, map, element, metainfo …). */
export type NftObject = Record<string, Record<string, unknown>>;

export type TraceProto = 'tcp' | 'udp' | 'icmp';

export interface TraceSpec {
  /** The namespace file the probe runs in; undefined: the daemon's own; 'none': send nothing, wait for the flow. */
  from: string | undefined;
  src: string | undefined;
  dst: string;
  proto: TraceProto;
  port: number | undefined;
  /** How long to wait for the flow when nothing is sent. */
  waitMs: number;
  /** The namespace the overlays' VXLAN socket lives in, when not the daemon's (--data-path-addr): outer packets are followed there. */
  tunnelNetns?: string;
}

export interface TraceCapture {
  /** `nft monitor trace` lines of the marked packets, in order. */
  lines: string[];
  /** What the probe saw: "connected", "refused", "timeout", "reply", "sent", "waited". */
  probe: string;
  /** Packets the trace's table marked (each marking is a trace ID), whether or not another chain saw them after. */
  marked: number;
  /** The same, recorded inside the sender's own namespace (a container's), when it sent from one. */
  sourceLines?: string[];
  /**
   * The flow's packets leaving the host inside VXLAN (an overlay's, whose frames go from the
   * container's macvlan straight into the VXLAN link and cross no hook of the host before
   * they are encapsulated): the lines of the outer packets, found by the inner source.
   */
  tunnelLines?: string[];
}

/** Links and addresses of the daemon's own namespace. */
export interface KernelLinks {
  /** Every link, with its addresses. */
  list(): Promise<LinkInfo[]>;
  get(name: string): Promise<LinkInfo | undefined>;
  /** iproute2 commands as one batch; it stops at the first that fails (a KernelCommandError). */
  batch(commands: readonly string[]): Promise<void>;
  /** `bridge` commands (FDB entries) as one batch, likewise. */
  bridgeBatch(commands: readonly string[]): Promise<void>;
  /** A link's own forwarding entries (a VXLAN link's remote MACs and VTEPs). */
  fdb(name: string): Promise<FdbEntry[]>;
  /** A link's neighbour entries. */
  neighbours(name: string): Promise<NeighbourEntry[]>;
  /** Delete a link. Idempotent: already gone is success. */
  delete(name: string): Promise<void>;
  /**
   * Take a link out of use at once (down, no addresses, a throwaway name) and delete it
   * in the background; `onError` hears of a deletion that failed.
   */
  retire(name: string, onError: (e: unknown) => void): Promise<void>;
  /** Resolves when every link retired so far is deleted (or failed to be). */
  retiredGone(): Promise<void>;
  /** Remove addresses from a link berth does not own. Idempotent. */
  removeAddresses(name: string, addresses: readonly string[]): Promise<void>;
}

/** Sandboxes: network namespaces bound on files (a container's, or a spare). */
export interface KernelSandboxes {
  /** Run a wiring plan; the first sandbox step creates the sandbox when it does not exist. */
  apply(steps: readonly PlanStep[], sandbox: string): Promise<void>;
  /** Run undo steps one command at a time; what is already gone is skipped, other failures are returned. */
  undo(steps: readonly PlanStep[], sandbox: string): Promise<string[]>;
  /**
   * Run commands in a sandbox that exists, in one process, each whatever became of the
   * others (a failure is thrown after all ran); a sandbox that is gone is skipped (never made).
   */
  amend(sandbox: string, commands: readonly string[]): Promise<void>;
  /** A sandbox with only its loopback, up. Idempotent. */
  ensure(sandbox: string): Promise<void>;
  /** Unmount and remove a namespace file. Idempotent. */
  delete(sandbox: string): Promise<void>;
  /** The namespace files in a folder. */
  list(dir: string): string[];
}

export interface KernelSysctls {
  read(key: readonly string[]): Promise<string>;
  /** Set what differs; returns the settings changed. Optional keys the kernel lacks are skipped. */
  ensure(settings: readonly SysctlSetting[]): Promise<SysctlSetting[]>;
}

export interface KernelNft {
  /** Commit a script as one transaction (`nft -f -`). */
  apply(script: string): Promise<void>;
  /** A table's objects, or undefined when it does not exist. */
  listTable(family: NftFamily, name: string): Promise<NftObject[] | undefined>;
  /** Every table there is, whoever made it. */
  listTables(): Promise<{ family: string; name: string }[]>;
  /** Delete a table. Idempotent. */
  deleteTable(family: NftFamily, name: string): Promise<void>;
  /** Commit a script as one transaction inside the namespace at `netns` (a container's own tables). */
  applyIn(netns: string, script: string): Promise<void>;
  /** A table's objects inside the namespace at `netns`, or undefined when it does not exist. */
  listTableIn(netns: string, family: NftFamily, name: string): Promise<NftObject[] | undefined>;
}

/** Traffic control in the daemon's namespace: u32 filters on clsact qdiscs (direct routing's data plane). */
export interface KernelTc {
  /** `tc` commands as one batch: it stops at the first that fails (a KernelCommandError), or with `force` runs each whatever the others did, failing after. */
  batch(commands: readonly string[], force?: boolean): Promise<void>;
  /** A link's u32 filters on one side of its clsact qdisc; none without one. */
  filters(dev: string, side: TcSide): Promise<U32Filter[]>;
}

/** The connection tracking table of a namespace. */
export interface KernelConntrack {
  /** Forget the `proto` flows whose replies come from these addresses (a removed backend's), in the namespace at `netns` (undefined: the daemon's own); returns how many went. Idempotent. */
  forget(netns: string | undefined, proto: 'tcp' | 'udp', replySources: readonly string[]): Promise<number>;
}

/** IPsec (XFRM): associations and the policies that select them. */
export interface KernelXfrm {
  /** Add associations, then policies (added or replaced); an association already there is kept. */
  add(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): Promise<void>;
  /** Delete policies, then associations. Idempotent: already gone is success. */
  delete(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): Promise<void>;
}

export interface Kernel {
  readonly links: KernelLinks;
  readonly sandboxes: KernelSandboxes;
  readonly sysctls: KernelSysctls;
  readonly nft: KernelNft;
  readonly xfrm: KernelXfrm;
  readonly conntrack: KernelConntrack;
  readonly tc: KernelTc;
  /** The daemon namespace's routes of these families. */
  routes(families: readonly (4 | 6)[]): Promise<RouteInfo[]>;
  /** A namespace's interfaces and routes as the kernel has them (`berth topology`): a sandbox's file, or the daemon's own. */
  readNamespace(nsPath?: string): Promise<NamespaceView>;
  /** Follow one flow's packets through the daemon namespace's nftables (`berth trace`). */
  traceFlow(spec: TraceSpec): Promise<TraceCapture>;
  /** The daemon namespace's IPv4 routes through a gateway out of `dev`, the default route included. */
  gatewayRoutes(dev: string): Promise<GatewayRoute[]>;
  /** Which link kinds the kernel can make (probed once). */
  features(): Promise<KernelFeatures>;
  /** Bind host-port sockets (relaying where asked); all or nothing (a HostPortError names the one that failed). */
  holdHostPorts(specs: readonly HostSocketSpec[]): Promise<HeldSockets>;
}
