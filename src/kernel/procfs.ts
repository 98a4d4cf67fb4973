/**
 * Host counters from /proc for docker stats: the whole machine's CPU time (/proc/stat)
 * and a network namespace's interface counters (/proc/<pid>/net/dev). The parsers are pure.
 */
import { readFile } from 'node:fs/promises';

/** USER_HZ: /proc/stat counts in these ticks. */
const CLOCK_TICKS = 100;

export interface SystemCpu {
  /** Nanoseconds of CPU time of all CPUs since boot (user through steal). */
  usage: number;
  online: number;
}

/** An interface's counters, under Docker's names. */
export interface NetDevCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

export async function readSystemCpu(): Promise<SystemCpu> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'));
}

/** The counters of the interfaces in the network namespace of process `pid`. */
export async function readNetDev(pid: number): Promise<Map<string, NetDevCounters>> {
  return parseNetDev(await readFile(`/proc/${pid}/net/dev`, 'utf8'));
}

/** dockerd's getSystemCPUUsage: the first seven fields of the "cpu" line, and one CPU per "cpuN" line. */
export function parseProcStat(text: string): SystemCpu {
  let usage = 0;
  let online = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) break;
    const parts = line.trim().split(/\s+/);
    if (parts[0] === 'cpu') usage = (parts.slice(1, 8).reduce((sum, v) => sum + Number(v), 0) * 1e9) / CLOCK_TICKS;
    else if (/^cpu\d+$/.test(parts[0] ?? '')) online++;
  }
  return { usage, online };
}

export function parseNetDev(text: string): Map<string, NetDevCounters> {
  const out = new Map<string, NetDevCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (v.length < 16 || v.some((x) => !Number.isFinite(x))) continue;
    out.set(line.slice(0, colon).trim(), {
      rx_bytes: v[0]!,
      rx_packets: v[1]!,
      rx_errors: v[2]!,
      rx_dropped: v[3]!,
      tx_bytes: v[8]!,
      tx_packets: v[9]!,
      tx_errors: v[10]!,
      tx_dropped: v[11]!,
    });
  }
  return out;
}
