/**
 * docker top: ps on the host over the processes of the container's cgroup, as dockerd's
 * ContainerTop: the user's ps arguments (default -ef), the lines of the container's pids
 * kept (and the thread lines under them), every line cut into as many fields as there
 * are titles.
 */
import { conflict, invalid, systemError } from '../../errors.js';
import type { EventSink } from '../../events/types.js';
import { psOutput } from '../../kernel/ps.js';
import type { Runtime } from '../../runtime/index.js';
import { containerEvent } from './events.js';
import type { ContainerRecords } from './records.js';

export interface TopDeps {
  records: ContainerRecords;
  runtime: Runtime;
  events: EventSink;
}

/** Docker's ContainerTopOKBody. */
export interface TopResult {
  Titles: string[];
  Processes: string[][];
}

export async function containerTop(deps: TopDeps, idOrName: string, psArgs: string): Promise<TopResult> {
  const args = psArgs === '' ? '-ef' : psArgs;
  checkPsArgs(args);
  const c = deps.records.find(idOrName);
  if (c.state.status === 'restarting') throw conflict(`Container ${c.id} is restarting, wait until the container is running`);
  if (c.state.status !== 'running') throw conflict(`container ${c.id} is not running`);
  const pids = await deps.runtime.pids(c.id);
  const result = parsePsOutput(await psOutput(args.split(' ').filter((a) => a !== ''), pids), pids);
  containerEvent(deps.events, c, 'top');
  return result;
}

/** dockerd refuses a ps output format that renames the PID column ("-o user=PID"). */
export function checkPsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+(\S*)=\s*(PID\S*)/g)) {
    if (m[1] !== 'pid') throw invalid(`specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

/**
 * The lines of ps's output whose PID is one of `pids`, plus the thread lines ("-" in the
 * PID column, from -m) that follow such a line; the fields past the last title are
 * joined into it (the command line keeps its spaces).
 */
export function parsePsOutput(output: string, pids: readonly number[]): TopResult {
  const [header = '', ...lines] = output.split('\n');
  const titles = fields(header);
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw invalid("Couldn't find PID field in ps output");
  const wanted = new Set(pids);
  const processes: string[][] = [];
  let inContainer = false;
  for (const line of lines) {
    if (line === '') continue;
    const f = fields(line);
    const pid = f[pidIndex] ?? '';
    if (pid === '-') {
      if (inContainer) processes.push(fit(f, titles.length));
      continue;
    }
    if (!/^\d+$/.test(pid)) throw systemError(`Unexpected pid '${pid}'`);
    inContainer = wanted.has(Number(pid));
    if (inContainer) processes.push(fit(f, titles.length));
  }
  return { Titles: titles, Processes: processes };
}

/** Split on ASCII white space only (a command line's other spaces stay in it). */
function fields(line: string): string[] {
  return line.split(/[\t\n\f\r ]+/).filter((x) => x !== '');
}

function fit(f: string[], n: number): string[] {
  return [...f.slice(0, n - 1), f.slice(n - 1).join(' ')];
}
