/** `berth trace FROM TO[:PORT][/tcp|udp|icmp]`: a real packet's path through the host's nftables, and why it stopped if it did. */
import type { TraceResult } from '../../../insight/trace.js';
import { out, type CommandContext } from '../../context.js';
import type { CommandSpec } from '../../registry.js';

/** Text for a person: the path chain by chain, the translations, the verdict. */
export function renderTrace(r: TraceResult): string {
  const lines = [`trace ${r.flow}  (probe: ${r.probe}; ${r.packets} packet${r.packets === 1 ? '' : 's'} marked)`];
  // A chain the packet only crossed (no rule matched, its policy accepted) takes one word.
  let passed: string[] = [];
  const flush = (): void => {
    if (passed.length > 0) lines.push(`  passed ${passed.join(', ')}`);
    passed = [];
  };
  for (const h of r.hops) {
    if (h.rules.length === 0 && (h.policy ?? 'accept').startsWith('accept')) {
      passed.push(h.chain);
      continue;
    }
    flush();
    lines.push(`  ${h.chain}${h.packet ? `  [${h.packet}]` : ''}`);
    for (const rule of h.rules) lines.push(`      ${rule.rule}  → ${rule.verdict}`);
    if (h.policy) lines.push(`      policy ${h.policy}`);
  }
  flush();
  for (const t of r.translated) lines.push(`  ${t}`);
  if (r.leftBy) lines.push(`  left by ${r.leftBy}`);
  if (r.dropped) lines.push(`  DROPPED by: ${r.dropped.rule}`);
  lines.push(r.summary);
  return `${lines.join('\n')}\n`;
}

async function run(ctx: CommandContext): Promise<number> {
  const [from, to] = ctx.args;
  const wait = ctx.flags.string('wait');
  const r = await ctx.client.json<TraceResult>('POST', '/berth/trace', { body: { From: from, To: to, ...(wait ? { WaitSeconds: Number(wait) } : {}) } });
  out(ctx, ctx.flags.string('format') === 'json' ? `${JSON.stringify(r)}\n` : renderTrace(r));
  return r.dropped ? 1 : 0;
}

export const trace: CommandSpec = {
  path: ['trace'],
  usage: 'FROM TO[:PORT][/tcp|udp|icmp]',
  summary: "Follow a real packet through the host's firewall and tell where it went, or which rule dropped it and why",
  flags: [
    { name: 'format', type: 'string', help: "'json' for JSON; text otherwise" },
    { name: 'wait', type: 'string', help: 'Seconds to wait for the flow when FROM is an address outside (default 5)' },
  ],
  args: { min: 2, max: 2 },
  run,
};
