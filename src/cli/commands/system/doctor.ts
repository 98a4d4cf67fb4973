/** `berth doctor`: the daemon's checks of its host, explained; the exit status says whether all is well. */
import type { Check, Report } from '../../../insight/doctor.js';
import { out, type CommandContext } from '../../context.js';
import type { CommandSpec } from '../../registry.js';

const MARK: Readonly<Record<Check['verdict'], string>> = { ok: 'ok  ', info: 'info', warn: 'WARN', fail: 'FAIL' };

/** Text for a person: one line per check, its hint indented under it. */
export function renderReport(r: Report): string {
  const lines = r.checks.flatMap((c) => [`[${MARK[c.verdict]}] ${c.summary}`, ...(c.hint ? [`       ${c.hint}`] : [])]);
  const failed = r.checks.filter((c) => c.verdict === 'fail').length;
  const warned = r.checks.filter((c) => c.verdict === 'warn').length;
  lines.push('', r.healthy ? `All is well${warned > 0 ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}.` : `${failed} problem${failed > 1 ? 's' : ''} found.`);
  return `${lines.join('\n')}\n`;
}

async function run(ctx: CommandContext): Promise<number> {
  const format = ctx.flags.string('format');
  const report = await ctx.client.json<Report>('GET', '/berth/doctor');
  out(ctx, format === 'json' ? `${JSON.stringify(report)}\n` : renderReport(report));
  return report.healthy ? 0 : 1;
}

export const doctor: CommandSpec = {
  path: ['doctor'],
  usage: '[OPTIONS]',
  summary: "Check the host for what would keep containers' traffic from flowing",
  flags: [{ name: 'format', type: 'string', help: "'json' for JSON; text otherwise" }],
  args: { max: 0 },
  run,
};
