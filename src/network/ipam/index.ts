/** IPAM: addresses and prefixes, predefined pools, per-subnet address allocation. Pure; no I/O. */
export * from './ip.js';
export * from './pools.js';
export * from './allocator.js';
