/**
 * IPsec in the kernel (XFRM), through `ip xfrm`: security associations (ESP in transport
 * mode, AES-GCM) and the policies that send a flow through them. What to program is
 * decided elsewhere (the overlay driver's plan); here it becomes commands, pure
 * (`stateAddArgs` …), and runs.
 */
import { kernelSays, run } from './exec.js';

/** An ESP security association, transport mode, rfc4106(gcm(aes)). */
export interface XfrmState {
  src: string;
  dst: string;
  /** Security Parameter Index (32 bits). */
  spi: number;
  /** Ties the association to the policies' templates (and labels it as berth's). */
  reqid: number;
  /** The AEAD key material, hex: the AES key followed by its 4-byte salt. */
  aeadKey: string;
  /** The ICV's length in bits. */
  icvBits: number;
}

/**
 * An outbound policy: UDP from `src` to `dst` (prefixes) on `dport`, carrying `mark`,
 * goes through the template's association, or, without one, is blocked.
 */
export interface XfrmPolicy {
  src: string;
  dst: string;
  dport: number;
  mark: number;
  /** The lower goes first (the kernel's default is 0). */
  priority?: number;
  tmpl?: { src: string; dst: string; spi: number; reqid: number };
}

const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;

/** `ip` arguments adding an association. */
export function stateAddArgs(s: XfrmState): string[] {
  if (!/^[0-9a-f]+$/i.test(s.aeadKey)) throw new Error(`an IPsec key must be hex: ${s.aeadKey.length} characters are not`);
  return ['xfrm', 'state', 'add', ...stateId(s), 'reqid', hex(s.reqid), 'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', `0x${s.aeadKey}`, String(s.icvBits)];
}

export function stateDeleteArgs(s: XfrmState): string[] {
  return ['xfrm', 'state', 'delete', ...stateId(s)];
}

function stateId(s: XfrmState): string[] {
  return ['src', s.src, 'dst', s.dst, 'proto', 'esp', 'spi', hex(s.spi)];
}

/** `ip` arguments adding or replacing a policy (`update` is both). */
export function policyUpdateArgs(p: XfrmPolicy): string[] {
  const t = p.tmpl;
  const priority = p.priority === undefined ? [] : ['priority', String(p.priority)];
  if (!t) return [...policySelector('update', p), ...priority, 'action', 'block'];
  return [...policySelector('update', p), ...priority, 'tmpl', 'src', t.src, 'dst', t.dst, 'proto', 'esp', 'spi', hex(t.spi), 'reqid', hex(t.reqid), 'mode', 'transport'];
}

export function policyDeleteArgs(p: XfrmPolicy): string[] {
  return policySelector('delete', p);
}

function policySelector(verb: string, p: XfrmPolicy): string[] {
  return ['xfrm', 'policy', verb, 'src', p.src, 'dst', p.dst, 'proto', 'udp', 'dport', String(p.dport), 'dir', 'out', 'mark', hex(p.mark), 'mask', '0xffffffff'];
}

/** Associations first (a policy must find its association), each kept if a restart finds it already there. */
export async function addXfrm(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): Promise<void> {
  for (const s of states) {
    try {
      await run('ip', stateAddArgs(s));
    } catch (e: unknown) {
      if (!kernelSays(e, 'exists')) throw e;
    }
  }
  for (const p of policies) await run('ip', policyUpdateArgs(p));
}

/** Policies first (nothing then selects the associations), then the associations; what is gone already is no error. */
export async function deleteXfrm(states: readonly XfrmState[], policies: readonly XfrmPolicy[]): Promise<void> {
  const args = [...policies.map(policyDeleteArgs), ...states.map(stateDeleteArgs)];
  for (const a of args) {
    try {
      await run('ip', a);
    } catch (e: unknown) {
      if (!kernelSays(e, 'missing')) throw e;
    }
  }
}
