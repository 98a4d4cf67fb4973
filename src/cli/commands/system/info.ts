/** `berth info`: a summary of the daemon, in the layout of `docker info`. */
import { clientVersion } from '../../build-info.js';
import { err, out, type CommandContext } from '../../context.js';
import { executeTemplate, parseTemplate } from '../../format.js';
import type { CommandSpec } from '../../registry.js';
import { isRecord } from '../../../util/template/values.js';
import { objectFormatFlag } from '../common.js';

type Json = Record<string, unknown>;

function clientInfo(ctx: CommandContext): Json {
  return { Debug: ctx.debug, Version: clientVersion(), Context: 'default', Plugins: [], Warnings: null };
}

const text = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** go-units BytesSize: "%.4g" with binary units. */
export function bytesSize(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let size = n;
  let i = 0;
  while (size >= 1024 && i < units.length - 1) {
    size /= 1024;
    i++;
  }
  return `${Number(size.toPrecision(4))}${units[i]}`;
}

function serverLines(info: Json): string[] {
  const lines: string[] = [];
  const add = (label: string, v: unknown): void => {
    if (v !== undefined && v !== null && v !== '') lines.push(` ${label}: ${text(v)}`);
  };
  add('Containers', info.Containers);
  add(' Running', info.ContainersRunning);
  add(' Paused', info.ContainersPaused);
  add(' Stopped', info.ContainersStopped);
  add('Images', info.Images);
  add('Server Version', info.ServerVersion);
  add('Storage Driver', info.Driver);
  for (const pair of list(info.DriverStatus)) {
    if (Array.isArray(pair)) add(` ${text(pair[0])}`, pair[1]);
  }
  add('Logging Driver', info.LoggingDriver);
  add('Cgroup Driver', info.CgroupDriver);
  add('Cgroup Version', info.CgroupVersion);
  if (isRecord(info.Plugins)) {
    lines.push(' Plugins:');
    for (const kind of ['Volume', 'Network', 'Authorization', 'Log']) {
      const names = list(info.Plugins[kind]);
      if (names.length > 0) lines.push(`  ${kind}: ${names.map(text).join(' ')}`);
    }
  }
  if (isRecord(info.Swarm)) add('Swarm', info.Swarm.LocalNodeState);
  if (isRecord(info.Runtimes)) lines.push(` Runtimes: ${Object.keys(info.Runtimes).sort().join(' ')}`);
  add('Default Runtime', info.DefaultRuntime);
  securityOptions(info, lines);
  add('Kernel Version', info.KernelVersion);
  add('Operating System', info.OperatingSystem);
  add('OSType', info.OSType);
  add('Architecture', info.Architecture);
  add('CPUs', info.NCPU);
  if (typeof info.MemTotal === 'number') add('Total Memory', bytesSize(info.MemTotal));
  add('Name', info.Name);
  add('ID', info.ID);
  add('Root Dir', info.DockerRootDir);
  add('Debug Mode', info.Debug);
  add('Experimental', info.ExperimentalBuild);
  add('Live Restore Enabled', info.LiveRestoreEnabled);
  const pools = list(info.DefaultAddressPools).filter(isRecord);
  if (pools.length > 0) {
    lines.push(' Default Address Pools:');
    for (const p of pools) lines.push(`   Base: ${text(p.Base)}, Size: ${text(p.Size)}`);
  }
  return lines;
}

/** "name=seccomp,profile=unconfined" becomes "  seccomp" and "   Profile: unconfined". */
function securityOptions(info: Json, lines: string[]): void {
  const opts = list(info.SecurityOptions).map(text);
  if (opts.length === 0) return;
  lines.push(' Security Options:');
  for (const opt of opts) {
    const kv = Object.fromEntries(opt.split(',').map((f) => [f.split('=', 1)[0] ?? '', f.slice(f.indexOf('=') + 1)]));
    lines.push(`  ${kv.name ?? opt}`);
    for (const [k, v] of Object.entries(kv)) {
      if (k !== 'name') lines.push(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
}

async function run(ctx: CommandContext): Promise<void> {
  const format = ctx.flags.string('format');
  const client = clientInfo(ctx);
  if (format !== '') {
    const template = parseTemplate(format === 'json' ? '{{json .}}' : format);
    const info = await ctx.client.json<unknown>('GET', '/info');
    out(ctx, `${executeTemplate(template, { ...(isRecord(info) ? info : {}), ClientInfo: client })}\n`);
    return;
  }
  out(ctx, `Client:\n Version:    ${text(client.Version)}\n Context:    default\n Debug Mode: ${String(ctx.debug)}\n\n`);
  const info = await ctx.client.json<unknown>('GET', '/info');
  const server = isRecord(info) ? info : {};
  out(ctx, `Server:\n${serverLines(server).join('\n')}\n`);
  const warnings = list(server.Warnings).map(text);
  if (warnings.length > 0) err(ctx, `${warnings.join('\n')}\n`);
}

export const info: CommandSpec = {
  path: ['info'],
  usage: '[OPTIONS]',
  summary: 'Display system-wide information',
  flags: [objectFormatFlag('f')],
  args: { max: 0 },
  run,
};
