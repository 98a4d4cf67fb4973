/**
 * Optional link types of the running kernel, probed once per process. Each probe
 * creates that kind of link inside a throwaway network namespace (`unshare --net`
 * running `ip -batch`; the namespace dies with the process), so the root and daemon
 * namespaces are never touched. Creating the link is the one robust test: it
 * auto-loads a module exactly as a real request would, and it answers the same on
 * kernels built without module support, where /proc/modules and /sys/module say
 * nothing about built-in drivers.
 */
import { notImplemented, type BerthError } from '../errors.js';
import { run } from './exec.js';

export type KernelFeature = 'macvlan' | 'ipvlan' | 'vlan' | 'dummy' | 'ifb' | 'vxlan' | 'esp';

/** A lower device for the link types that need one (veth is what berth needs anyway). */
const LOWER = 'link add bprobe0 type veth peer name bprobe1';

/** How each feature is named in messages, and the iproute2 batch that proves it. */
export const FEATURES: Readonly<Record<KernelFeature, { label: string; probe: readonly string[] }>> = {
  macvlan: { label: 'macvlan support (macvlan module)', probe: [LOWER, 'link add bprobe2 link bprobe0 type macvlan mode bridge'] },
  ipvlan: { label: 'ipvlan support (ipvlan module)', probe: [LOWER, 'link add bprobe2 link bprobe0 type ipvlan mode l2'] },
  vlan: { label: '802.1Q VLAN support (8021q)', probe: [LOWER, 'link add link bprobe0 name bprobe0.7 type vlan id 7'] },
  dummy: { label: 'dummy link support (dummy module)', probe: ['link add bprobe2 type dummy'] },
  ifb: { label: 'ifb link support (ifb module)', probe: ['link add bprobe2 type ifb'] },
  vxlan: { label: 'VXLAN support (vxlan module)', probe: ['link add bprobe2 type vxlan id 7 dstport 4789'] },
  // An ESP state with the cipher encrypted overlays use (AES-GCM, as Docker's).
  esp: {
    label: 'IPsec ESP support (esp4 and the rfc4106(gcm(aes)) cipher)',
    probe: ['xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x100 mode transport aead rfc4106(gcm(aes)) 0x0102030405060708091011121314151617181920 64'],
  },
};

/** true: supported; false: the kernel refused; undefined: probing itself failed, so nobody can tell. */
export type KernelFeatures = Readonly<Record<KernelFeature, boolean | undefined>>;

let cached: Promise<KernelFeatures> | undefined;

/** The running kernel's features; the first call probes (a few ms, parallel spawns), later calls share it. */
export async function kernelFeatures(): Promise<KernelFeatures> {
  cached ??= probeAll();
  return cached;
}

/**
 * The error for a missing feature, naming it: "kernel lacks ipvlan support (ipvlan
 * module): cannot create ipvlan network x". NotImplemented: this host cannot do it.
 */
export function kernelLacks(feature: KernelFeature, consequence: string): BerthError {
  return notImplemented(`kernel lacks ${FEATURES[feature].label}: ${consequence}`);
}

async function probeAll(): Promise<KernelFeatures> {
  const names = Object.keys(FEATURES) as KernelFeature[];
  // If not even a veth can be made (no unshare, no privilege), the probes prove nothing.
  const canProbe = await probe([LOWER]);
  const answers = canProbe ? await Promise.all(names.map((f) => probe(FEATURES[f].probe))) : names.map(() => undefined);
  return Object.fromEntries(names.map((f, i) => [f, answers[i]])) as Record<KernelFeature, boolean | undefined>;
}

async function probe(batch: readonly string[]): Promise<boolean> {
  try {
    await run('unshare', ['--net', '--', 'ip', '-batch', '-'], { input: batch.join('\n') + '\n' });
    return true;
  } catch {
    return false;
  }
}
