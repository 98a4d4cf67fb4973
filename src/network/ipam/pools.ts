/**
 * Predefined address pools: where a network's subnet comes from when the user gives no
 * `--subnet`. A pool is a base prefix cut into subnets of one size (Docker's
 * `NetworkToSplit`); the daemon's `--default-address-pool base=…,size=…` replaces the
 * defaults.
 */
import { forbidden, invalid } from '../../errors.js';
import {
  bitLength,
  canonicalCidr,
  type Cidr,
  cidrsOverlap,
  compareCidr,
  type Family,
  formatNetwork,
  lastAddress,
  makeCidr,
  tryParseCidr,
} from './ip.js';

/** A base prefix handing out subnets of prefix length `size`. */
export interface PredefinedPool {
  /** Canonical (masked) base prefix. */
  readonly base: Cidr;
  /** Prefix length of each subnet cut from `base`; `base.prefix <= size <= 32|128`. */
  readonly size: number;
}

/**
 * Validates one pool. Used for `--default-address-pool` and daemon.json's
 * `default-address-pools` entries. A base with host bits set is masked, as Docker does.
 */
export function predefinedPool(base: string, size: number): PredefinedPool {
  const cidr = tryParseCidr(base);
  if (cidr === undefined) throw invalid(`invalid base pool "${base}": invalid CIDR address: ${base}`);
  const bits = bitLength(cidr.family);
  if (!Number.isInteger(size) || size < cidr.prefix || size > bits) {
    throw invalid(
      `invalid pools size: ${size} (base pool ${formatNetwork(cidr)} must be split into subnets ` +
        `of size /${cidr.prefix} to /${bits})`,
    );
  }
  return { base: canonicalCidr(cidr), size };
}

/**
 * Parses one `--default-address-pool` value, e.g. `base=10.10.0.0/16,size=24`.
 * Keys are case-insensitive; both are required. Messages follow moby's opts/address_pools.go.
 */
export function parseAddressPoolSpec(spec: string): PredefinedPool {
  let base: string | undefined;
  let size: number | undefined;
  for (const field of spec.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) throw invalid(`invalid field '${field}' must be a key=value pair`);
    const key = field.slice(0, eq).trim().toLowerCase();
    const value = field.slice(eq + 1).trim().toLowerCase();
    switch (key) {
      case 'base':
        base = value;
        break;
      case 'size':
        if (!/^[0-9]+$/.test(value)) throw invalid(`invalid size value: "${value}" (must be integer)`);
        size = Number(value);
        break;
      default:
        throw invalid(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (base === undefined) throw invalid(`invalid default address pool '${spec}': base is required`);
  if (size === undefined) throw invalid(`invalid default address pool '${spec}': size is required`);
  return predefinedPool(base, size);
}

/** Docker's local-scope IPv4 defaults: 172.17-31.0.0/16 (15 networks), then 192.168.0.0/16 in /20s (16). */
export const DEFAULT_ADDRESS_POOLS: readonly PredefinedPool[] = [
  predefinedPool('172.17.0.0/16', 16),
  predefinedPool('172.18.0.0/16', 16),
  predefinedPool('172.19.0.0/16', 16),
  predefinedPool('172.20.0.0/14', 16),
  predefinedPool('172.24.0.0/14', 16),
  predefinedPool('172.28.0.0/14', 16),
  predefinedPool('192.168.0.0/16', 20),
];

/** Docker's local-scope IPv6 default: unique local fd00::/48 in /64s. */
export const DEFAULT_ADDRESS_POOLS_V6: readonly PredefinedPool[] = [predefinedPool('fd00::/48', 64)];

/**
 * The message Docker's daemon gave (libnetwork ipam allocator, `getPredefinedPool`) when no
 * default pool had room. Current moby says `all predefined address pools have been fully
 * subnetted` (ipamapi.ErrNoMoreSubnets, InvalidParameter) for the same condition.
 */
export function noPoolAvailableMessage(family: Family): string {
  return `could not find an available, non-overlapping IPv${family} address pool among the defaults to assign to the network`;
}

/**
 * Sorts pools by base and drops a pool overlapping an earlier (hence bigger or equal) one,
 * as moby's `newAddrSpace` does, so allocation order does not depend on how they were listed.
 */
export function normalizePools(pools: readonly PredefinedPool[]): PredefinedPool[] {
  const sorted = [...pools].sort((a, b) => compareCidr(a.base, b.base));
  const kept: PredefinedPool[] = [];
  for (const pool of sorted) {
    const prev = kept[kept.length - 1];
    if (prev !== undefined && cidrsOverlap(prev.base, pool.base)) continue;
    kept.push(pool);
  }
  return kept;
}

/**
 * The lowest subnet of the first pool (see `normalizePools`) of `family` that overlaps none
 * of `taken` — the subnets of existing networks plus the host's routes. Throws `invalid`
 * with Docker's message when every candidate is taken. Cost is O(taken²) per pool, never
 * proportional to the number of candidate subnets (10.0.0.0/8 in /24s is 65536).
 */
export function allocateSubnet(
  pools: readonly PredefinedPool[],
  taken: readonly Cidr[],
  family: Family = 4,
): Cidr {
  const blockers = taken.filter((t) => t.family === family);
  for (const pool of normalizePools(pools.filter((p) => p.base.family === family))) {
    const step = 1n << BigInt(bitLength(family) - pool.size);
    const end = lastAddress(pool.base).value;
    let candidate = pool.base.network.value;
    while (candidate <= end) {
      const subnet = makeCidr({ family, value: candidate }, pool.size);
      const blocker = blockers.find((t) => cidrsOverlap(t, subnet));
      if (blocker === undefined) return subnet;
      // Skip every candidate the blocker covers; bases are aligned to `step`.
      const afterBlocker = lastAddress(blocker).value + 1n;
      const aligned = ((afterBlocker + step - 1n) / step) * step;
      candidate = aligned > candidate + step ? aligned : candidate + step;
    }
  }
  throw invalid(noPoolAvailableMessage(family));
}

/**
 * Refuses a requested subnet that overlaps an existing network's subnet in the same address
 * space. moby: ipamapi.ErrPoolOverlap, Forbidden, wrapped as "invalid pool request: %v".
 */
export function checkNoOverlap(requested: Cidr, existing: readonly Cidr[]): void {
  if (existing.some((e) => cidrsOverlap(e, requested))) {
    throw forbidden('invalid pool request: Pool overlaps with other one on this address space');
  }
}
