/**
 * Linux capabilities as Docker grants them: a default set, --cap-add/--cap-drop with
 * or without the CAP_ prefix, and "ALL".
 */
import { readFileSync } from 'node:fs';
import { invalid } from '../errors.js';

/** Every capability of Linux 6.x, in number order. */
export const ALL_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID',
  'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ',
  'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Docker's default grant (moby oci/caps/defaults.go). No NET_ADMIN, no SYS_ADMIN. */
export const DEFAULT_CAPS: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** "net_admin", "NET_ADMIN" and "CAP_NET_ADMIN" all name CAP_NET_ADMIN; "ALL" stays. */
export function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase();
  if (up === 'ALL') return up;
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`;
  if (!ALL_CAPS.includes(cap)) throw invalid(`unknown capability: "${cap}"`);
  return cap;
}

/**
 * The effective set: privileged gets everything; otherwise defaults, minus drops,
 * plus adds (an explicit add wins over a drop, as in Docker). Result in number order.
 */
export function effectiveCaps(
  opts: { privileged: boolean; capAdd: readonly string[]; capDrop: readonly string[] },
  bounding: ReadonlySet<string> = boundingSet(),
): string[] {
  // A capability outside the daemon's own bounding set cannot be given (runc would fail).
  const allowed = ALL_CAPS.filter((c) => bounding.has(c));
  if (opts.privileged) return allowed;
  const add = opts.capAdd.map(normalizeCap);
  const drop = opts.capDrop.map(normalizeCap);
  if (add.includes('ALL')) return allowed.filter((c) => !drop.includes(c));
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPS.filter((c) => !drop.includes(c));
  const set = new Set([...base, ...add]);
  return allowed.filter((c) => set.has(c));
}

let bounding: Set<string> | undefined;

/** The capabilities the daemon itself may pass on (CapBnd of /proc/self/status; ALL_CAPS is in bit order). */
export function boundingSet(): ReadonlySet<string> {
  if (bounding) return bounding;
  let mask = (1n << 64n) - 1n;
  try {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
    if (line) mask = BigInt(`0x${line.split(/\s+/)[1]}`);
  } catch {
    /* no procfs: assume everything */
  }
  bounding = new Set(ALL_CAPS.filter((_c, bit) => ((mask >> BigInt(bit)) & 1n) === 1n));
  return bounding;
}

