/**
 * The address allocator of a network's subnets (one pool per `IPAM.Config` entry).
 *
 * State is plain, immutable JSON (`PoolState`), stored in the network record as it is:
 *   { subnet: "172.18.0.0/16", ipRange?: "172.18.5.0/24", gateway: "172.18.0.1",
 *     auxAddresses: { name: ip }, allocated: [endpoint addresses, ascending] }
 * The network address (IPv4 unless /31 or /32; IPv6 always: the subnet-router anycast
 * address), the IPv4 broadcast address, the gateway and the auxiliary addresses are
 * reserved and derived from that on load; only endpoint addresses are in `allocated`.
 *
 * Every operation returns a new, frozen state and leaves its input untouched, so a caller
 * can keep the old one for rollback. Speed: the bookkeeping (sets of bigint, a low-water
 * mark) is cached per state object and handed on to the state an operation returns, so a
 * chain of operations never re-parses the addresses and never enumerates a range; a state
 * the cache has not seen (say, just read from the store) is indexed once, in O(n).
 *
 * Behaviour follows moby's default IPAM (libnetwork/ipams/defaultipam): a dynamic address
 * is the lowest free one of the ip-range (or the subnet); a static one may lie anywhere in
 * the subnet; the default gateway is the first free address of the ip-range.
 */
import { forbidden, invalid, joinProblems, unavailable } from '../../errors.js';
import {
  type Cidr,
  cidrContains,
  cidrsOverlap,
  type Family,
  formatCidr,
  formatIp,
  formatNetwork,
  type IP,
  isCanonical,
  lastAddress,
  parseCidr,
  parseIp,
  tryParseCidr,
  tryParseIp,
} from './ip.js';

/** What the user asked for: one `--subnet` with its `--ip-range`, `--gateway`, `--aux-address`. */
export interface PoolConfig {
  subnet: string;
  ipRange?: string;
  gateway?: string;
  auxAddresses?: Record<string, string>;
}

/** One subnet of a network and its allocations; see the file comment. Immutable. */
export interface PoolState {
  /** Canonical CIDR, e.g. "172.18.0.0/16". */
  readonly subnet: string;
  /** Canonical CIDR inside `subnet` from which dynamic addresses come. */
  readonly ipRange?: string;
  readonly gateway: string;
  /** Name -> address; reserved, never handed to endpoints. */
  readonly auxAddresses: Readonly<Record<string, string>>;
  /** Addresses handed out to endpoints (not gateway/aux), ascending. */
  readonly allocated: readonly string[];
}

// moby ipamapi (libnetwork/ipamapi/contract.go) well-known errors.
const ADDRESS_IN_USE = 'Address already in use'; // ErrIPAlreadyAllocated, Forbidden
const NO_AVAILABLE_IPS = 'no available addresses on this pool'; // ErrNoAvailableIPs, Unavailable
const OUT_OF_RANGE = 'requested address is out of range'; // ErrIPOutOfRange, InvalidParameter

// ---- validation (moby api/types/network/ipam.go, ValidateIPAM) ----------------------

/** Every problem of the configs, worded as moby's `ValidateIPAM` words it; empty when valid. */
export function validatePoolConfigs(configs: readonly PoolConfig[], ipv6Enabled = true): string[] {
  return configs.flatMap((cfg) => validatePoolConfig(cfg, ipv6Enabled));
}

function validatePoolConfig(cfg: PoolConfig, ipv6Enabled: boolean): string[] {
  const subnet = tryParseCidr(cfg.subnet);
  if (subnet === undefined) return [`invalid subnet ${cfg.subnet}: invalid CIDR block notation`];
  if (subnet.family === 6 && !ipv6Enabled) return [`invalid subnet ${cfg.subnet}: IPv6 has not been enabled for this network`];
  const errs: string[] = [];
  if (!isCanonical(subnet)) errs.push(`invalid subnet ${formatCidr(subnet)}: it should be ${formatNetwork(subnet)}`);
  if (cfg.ipRange !== undefined && cfg.ipRange !== '') errs.push(...validateIpRange(cfg.ipRange, subnet));
  if (cfg.gateway !== undefined && cfg.gateway !== '') {
    const problem = addressProblem(cfg.gateway, subnet);
    if (problem !== undefined) errs.push(`invalid gateway ${cfg.gateway}: ${problem}`);
  }
  for (const [name, aux] of Object.entries(cfg.auxAddresses ?? {})) {
    const problem = addressProblem(aux, subnet);
    if (problem !== undefined) errs.push(`invalid auxiliary address ${name}: ${problem}`);
  }
  return errs;
}

const familyName = (f: Family): string => `IPv${f}`;

function validateIpRange(ipRange: string, subnet: Cidr): string[] {
  const range = tryParseCidr(ipRange);
  if (range === undefined) return [`invalid ip-range ${ipRange}: invalid CIDR block notation`];
  if (range.family !== subnet.family) {
    return [`invalid ip-range ${ipRange}: parent subnet is an ${familyName(subnet.family)} block`];
  }
  const errs: string[] = [];
  const parent = formatCidr(subnet);
  if (range.prefix < subnet.prefix) {
    errs.push(`invalid ip-range ${ipRange}: CIDR block is bigger than its parent subnet ${parent}`);
  }
  if (!isCanonical(range)) errs.push(`invalid ip-range ${formatCidr(range)}: it should be ${formatNetwork(range)}`);
  if (!cidrsOverlap(subnet, range)) {
    errs.push(`invalid ip-range ${ipRange}: parent subnet ${parent} doesn't contain ip-range`);
  }
  return errs;
}

function addressProblem(address: string, subnet: Cidr): string | undefined {
  const ip = tryParseIp(address);
  if (ip === undefined) return 'invalid address';
  if (ip.family !== subnet.family) return `parent subnet is an ${familyName(subnet.family)} block`;
  if (!cidrContains(subnet, ip)) return `parent subnet ${formatCidr(subnet)} doesn't contain this address`;
  return undefined;
}

/** moby joins ValidateIPAM's errors (internal/multierror: a list from two on) under "invalid network config:". */
function configError(errs: readonly string[]): Error {
  return invalid(`invalid network config:\n${joinProblems(errs)}`);
}

/** Throws every problem of the configs at once, in Docker's words. */
export function checkPoolConfigs(configs: readonly PoolConfig[], ipv6Enabled = true): void {
  const errs = validatePoolConfigs(configs, ipv6Enabled);
  if (errs.length > 0) throw configError(errs);
}

// ---- the engine: one subnet's bookkeeping -----------------------------------------

class Pool {
  readonly family: Family;
  readonly subnet: Cidr;
  /** First and last address dynamic allocation may hand out (the ip-range, or the subnet). */
  private readonly rangeStart: bigint;
  private readonly rangeEnd: bigint;
  /** Network, broadcast, gateway and auxiliary addresses. */
  private readonly reserved = new Set<bigint>();
  private readonly allocated = new Set<bigint>();
  /** Every address of [rangeStart, lowWater) is reserved or allocated. */
  private lowWater: bigint;

  constructor(subnet: Cidr, ipRange: Cidr | undefined) {
    this.family = subnet.family;
    this.subnet = subnet;
    const span = ipRange ?? subnet;
    this.rangeStart = span.network.value;
    this.rangeEnd = lastAddress(span).value;
    this.lowWater = this.rangeStart;
    const hostBits = (this.family === 4 ? 32 : 128) - subnet.prefix;
    // RFC 3021: a /31 (or /32) has no network or broadcast address. IPv6 reserves the
    // subnet-router anycast address (RFC 4291 2.6.1) and has no broadcast.
    if (this.family === 6 || hostBits > 1) this.reserved.add(subnet.network.value);
    if (this.family === 4 && hostBits > 1) this.reserved.add(lastAddress(subnet).value);
  }

  ip(value: bigint): IP {
    return { family: this.family, value };
  }

  isUsed(value: bigint): boolean {
    return this.reserved.has(value) || this.allocated.has(value);
  }

  isAllocated(value: bigint): boolean {
    return this.allocated.has(value);
  }

  /** Reserves a fixed address (gateway, aux); false if it was already taken. */
  reserve(value: bigint): boolean {
    if (this.isUsed(value)) return false;
    this.reserved.add(value);
    return true;
  }

  /** Marks an endpoint address taken; false if it was already taken. */
  take(value: bigint): boolean {
    if (this.isUsed(value)) return false;
    this.allocated.add(value);
    return true;
  }

  /** Lowest free address of the range, or undefined. Does not take it. */
  lowestFree(): bigint | undefined {
    let v = this.lowWater;
    while (v <= this.rangeEnd && this.isUsed(v)) v++;
    this.lowWater = v;
    return v <= this.rangeEnd ? v : undefined;
  }

  /** Frees an endpoint address; false if it was not allocated. */
  free(value: bigint): boolean {
    if (!this.allocated.delete(value)) return false;
    if (value >= this.rangeStart && value < this.lowWater) this.lowWater = value;
    return true;
  }
}

/**
 * Bookkeeping of each state object this module produced or has seen, with the `allocated`
 * array it was built for: a state whose array was swapped or grown behind our back is
 * indexed again. (States are frozen; their arrays are not, as copying a frozen array is
 * several times slower, and allocation copies `allocated` each time.)
 */
const engines = new WeakMap<PoolState, { pool: Pool; allocated: readonly string[]; length: number }>();

function remember(state: PoolState, pool: Pool): void {
  Object.freeze(state);
  Object.freeze(state.auxAddresses);
  engines.set(state, { pool, allocated: state.allocated, length: state.allocated.length });
}

/** The engine of a state: cached, or built from the state (which is checked as it goes). */
function engineOf(state: PoolState): Pool {
  const cached = engines.get(state);
  if (cached !== undefined && cached.allocated === state.allocated && cached.length === state.allocated.length) {
    return cached.pool;
  }
  const errs = validatePoolConfig(state, true);
  if (errs.length > 0) throw configError(errs);
  const pool = new Pool(parseCidr(state.subnet), state.ipRange ? parseCidr(state.ipRange) : undefined);
  const corrupt = (what: string): Error => invalid(`corrupt IPAM state for subnet ${state.subnet}: ${what}`);
  if (!pool.reserve(parseIp(state.gateway).value)) throw corrupt(`gateway ${state.gateway} is reserved`);
  for (const [name, aux] of Object.entries(state.auxAddresses)) {
    if (!pool.reserve(parseIp(aux).value)) throw corrupt(`auxiliary address ${name}=${aux} is reserved`);
  }
  for (const a of state.allocated) {
    const ip = tryParseIp(a);
    if (ip === undefined || !cidrContains(pool.subnet, ip) || !pool.take(ip.value)) {
      throw corrupt(`bad allocated address ${a}`);
    }
  }
  remember(state, pool);
  return pool;
}

/** Hands the engine on from `prev` to `next` (prev is re-indexed from its content if reused). */
function handOver(prev: PoolState, next: PoolState, pool: Pool): PoolState {
  engines.delete(prev);
  remember(next, pool);
  return next;
}

/** `allocated` with one address inserted in ascending order (binary search). */
function withAddress(allocated: readonly string[], value: bigint, text: string): string[] {
  let lo = 0;
  let hi = allocated.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const v = tryParseIp(allocated[mid] ?? '')?.value ?? -1n;
    if (v < value) lo = mid + 1;
    else hi = mid;
  }
  const next = allocated.slice();
  next.splice(lo, 0, text);
  return next;
}

// ---- the API ------------------------------------------------------------------------

/**
 * Validates a config (all problems at once, in moby's ValidateIPAM words under "invalid
 * network config:"), then reserves network/broadcast, the gateway (given, or the first
 * free address of the ip-range) and the auxiliary addresses. A gateway or auxiliary address
 * on a reserved address fails as moby's network.go fails it — "failed to allocate gateway
 * (X): Address already in use", "failed to allocate secondary ip address (name:X): Address
 * already in use" — as InvalidParameter (moby answers 500 for the user's mistake).
 */
export function createPool(cfg: PoolConfig): PoolState {
  const errs = validatePoolConfig(cfg, true);
  if (errs.length > 0) throw configError(errs);
  const subnet = parseCidr(cfg.subnet);
  const ipRange = cfg.ipRange ? parseCidr(cfg.ipRange) : undefined;
  const pool = new Pool(subnet, ipRange);

  let gateway: bigint;
  if (cfg.gateway) {
    gateway = parseIp(cfg.gateway).value;
    if (!pool.reserve(gateway)) throw invalid(`failed to allocate gateway (${cfg.gateway}): ${ADDRESS_IN_USE}`);
  } else {
    const free = pool.lowestFree();
    if (free === undefined) throw invalid(`failed to allocate gateway (): ${NO_AVAILABLE_IPS}`);
    gateway = free;
    pool.reserve(gateway);
  }

  const auxAddresses: Record<string, string> = {};
  for (const [name, text] of Object.entries(cfg.auxAddresses ?? {})) {
    const ip = parseIp(text);
    if (!pool.reserve(ip.value)) {
      throw invalid(`failed to allocate secondary ip address (${name}:${text}): ${ADDRESS_IN_USE}`);
    }
    auxAddresses[name] = formatIp(ip);
  }

  const state: PoolState = {
    subnet: formatNetwork(subnet),
    ...(ipRange !== undefined ? { ipRange: formatNetwork(ipRange) } : {}),
    gateway: formatIp(pool.ip(gateway)),
    auxAddresses,
    allocated: [],
  };
  remember(state, pool);
  return state;
}

/**
 * Validates all configs of one network at once (so the user sees every problem), refuses
 * subnets that overlap each other (moby: ErrPoolOverlap, Forbidden), then creates the
 * pools in order.
 */
export function createPools(configs: readonly PoolConfig[]): PoolState[] {
  checkPoolConfigs(configs);
  const subnets: Cidr[] = [];
  for (const cfg of configs) {
    const subnet = parseCidr(cfg.subnet);
    if (subnets.some((s) => cidrsOverlap(s, subnet))) {
      throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
    }
    subnets.push(subnet);
  }
  return configs.map(createPool);
}

/** The address family of a pool. */
export function poolFamily(pool: PoolState): Family {
  return parseCidr(pool.subnet).family;
}

/** True when `ip` is inside the pool's subnet (whatever its allocation state). */
export function poolContains(pool: PoolState, ip: string): boolean {
  const parsed = tryParseIp(ip);
  return parsed !== undefined && cidrContains(parseCidr(pool.subnet), parsed);
}

/** True when `ip` is handed out to an endpoint of this pool (gateway and aux are not). */
export function isAllocated(pool: PoolState, ip: string): boolean {
  const parsed = tryParseIp(ip);
  const engine = engineOf(pool);
  return parsed !== undefined && parsed.family === engine.family && engine.isAllocated(parsed.value);
}

/**
 * Hands out an address; returns it (canonical text) and the new state. Without
 * `requested`: the lowest free address of the ip-range (or subnet), else Unavailable "no
 * available addresses on this pool". With `requested` (static `--ip`): it must be in the
 * subnet (else InvalidParameter "requested address is out of range") and free — not an
 * endpoint's, the gateway, an auxiliary, the network or broadcast address (else Forbidden
 * "Address already in use"). Not idempotent; `pool` itself is left unchanged.
 */
export function allocate(pool: PoolState, requested?: string): { pool: PoolState; address: string } {
  const engine = engineOf(pool);
  let value: bigint;
  if (requested !== undefined) {
    const ip = tryParseIp(requested);
    if (ip === undefined) throw invalid(`invalid IP address: ${requested}`);
    if (!cidrContains(engine.subnet, ip)) throw invalid(OUT_OF_RANGE);
    if (!engine.take(ip.value)) throw forbidden(ADDRESS_IN_USE);
    value = ip.value;
  } else {
    const free = engine.lowestFree();
    if (free === undefined) throw unavailable(NO_AVAILABLE_IPS);
    engine.take(free);
    value = free;
  }
  const address = formatIp(engine.ip(value));
  const next = { ...pool, allocated: withAddress(pool.allocated, value, address) };
  return { pool: handOver(pool, next, engine), address };
}

/**
 * Returns an endpoint address to the pool. Idempotent: for an address that is not allocated
 * (free, another subnet's, the gateway, an auxiliary) it returns `pool` itself.
 */
export function release(pool: PoolState, ip: string): PoolState {
  const parsed = tryParseIp(ip);
  const engine = engineOf(pool);
  if (parsed === undefined || parsed.family !== engine.family || !engine.free(parsed.value)) return pool;
  let index = pool.allocated.indexOf(formatIp(parsed));
  if (index < 0) index = pool.allocated.findIndex((a) => tryParseIp(a)?.value === parsed.value);
  const next = { ...pool, allocated: pool.allocated.filter((_, i) => i !== index) };
  return handOver(pool, next, engine);
}

/** What `allocateInNetwork` is asked. */
export interface NetworkAddressRequest {
  family: Family;
  /** A static address (`--ip` / `--ip6`), if any. */
  requested?: string;
  /** Network name and id, for moby's exhaustion message. */
  networkName?: string;
  networkId?: string;
}

/** The outcome of `allocateInNetwork`: the new pools (one replaced) and where the address came from. */
export interface NetworkAllocation {
  pools: PoolState[];
  /** Index in `pools` of the pool the address belongs to. */
  index: number;
  address: string;
}

/**
 * Chooses the pool of a network that serves a request, as moby's
 * `Endpoint.assignAddressVersion` (libnetwork/endpoint.go) does:
 * - requested: the first pool of the family containing it; failing that InvalidParameter
 *   "invalid address X: It does not belong to any of this network's subnets" (moby ≥ 25;
 *   older releases said "Invalid address X: …", BadRequest). That pool's own errors
 *   ("Address already in use") pass through.
 * - not requested: the first pool of the family with a free address; when all are full,
 *   Unavailable "no available IPv4 addresses on this network's address pools: NAME (ID)"
 *   (moby returns a plain error there, i.e. 500).
 * Returns undefined when nothing was requested and the network has no pool of the family
 * (moby likewise gives the endpoint no address of that family).
 */
export function allocateInNetwork(
  pools: readonly PoolState[],
  req: NetworkAddressRequest,
): NetworkAllocation | undefined {
  const ofFamily = pools.map((p, i) => ({ p, i })).filter(({ p }) => poolFamily(p) === req.family);
  const replace = (index: number, pool: PoolState): PoolState[] => pools.map((p, i) => (i === index ? pool : p));
  if (req.requested !== undefined) {
    const ip = tryParseIp(req.requested);
    if (ip === undefined) throw invalid(`invalid IP address: ${req.requested}`);
    const hit = ofFamily.find(({ p }) => cidrContains(parseCidr(p.subnet), ip));
    if (hit === undefined) {
      throw invalid(`invalid address ${req.requested}: It does not belong to any of this network's subnets`);
    }
    const { pool, address } = allocate(hit.p, req.requested);
    return { pools: replace(hit.i, pool), index: hit.i, address };
  }
  if (ofFamily.length === 0) return undefined;
  for (const { p, i } of ofFamily) {
    if (engineOf(p).lowestFree() === undefined) continue;
    const { pool, address } = allocate(p);
    return { pools: replace(i, pool), index: i, address };
  }
  const who = `${req.networkName ?? ''} (${req.networkId ?? ''})`;
  throw unavailable(`no available IPv${req.family} addresses on this network's address pools: ${who}`);
}

/** Releases `ip` from whichever pool holds it. Idempotent: when none does, the pools are returned unchanged. */
export function releaseInNetwork(pools: readonly PoolState[], ip: string): PoolState[] {
  let changed = false;
  const next = pools.map((p) => {
    const after = release(p, ip);
    if (after !== p) changed = true;
    return after;
  });
  return changed ? next : [...pools];
}
