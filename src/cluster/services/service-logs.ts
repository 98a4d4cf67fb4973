/**
 * `docker service logs` on a manager: the lines of every task asked for, gathered from the
 * nodes they run on (log-server.ts), each tagged with the task's node, service and task
 * IDs (the attributes dockerd's details show and the CLI turns into `name.slot.id@node`).
 *
 * Without follow, every task placed on a node is read once and the stream ends; what could
 * not be read ends it with swarmkit's warning (a task not scheduled, a node not
 * available). With follow, the tasks are looked at again every LOOK_MS: a task is read
 * from when it runs, so the tasks made later (scaling, replacements) join the stream; a
 * node that dies ends its tasks' part with a line saying so, and the others go on.
 */
import { messageOf } from '../../errors.js';
import type { LogRecord } from '../../logs/message.js';
import { NODE_PORT, type NodeTls } from '../node-endpoint.js';
import { fetchTaskLogs, type TaskLogOptions } from './log-server.js';
import { TASK_LABELS, type TaskState } from './model.js';
import type { TaskView } from './services.js';

const LOOK_MS = 1000;
/** The states from which a task's container has run (its log is there to follow). */
const RAN: ReadonlySet<TaskState> = new Set(['running', 'complete', 'shutdown', 'failed', 'orphaned', 'remove']);

export interface ServiceLogSource {
  /** The tasks asked for, as they are now (a service's, or one task). */
  tasks(): Promise<TaskView[]>;
  /** The swarm's nodes: where each is, whether it is alive. */
  nodes(): Promise<{ id: string; addr: string; ready: boolean }[]>;
  /** This manager's certificate, to be let in by the nodes. */
  tls: NodeTls;
  /** The nodes' endpoint port (NODE_PORT; tests may differ). */
  port?: number;
}

/** A line of a task's, or what went wrong: for one task (its part of the stream ends), or for the whole read (the last item). */
export type LogItem = { task: TaskView; record: LogRecord } | { task?: TaskView; error: string };

/** The attributes that say whose a line is, as dockerd adds them. */
export function taskAttrs(t: TaskView): [string, string][] {
  return [
    [TASK_LABELS.nodeId, t.record.nodeId],
    [TASK_LABELS.serviceId, t.record.serviceId],
    [TASK_LABELS.taskId, t.record.id],
  ];
}

export async function* gatherLogs(src: ServiceLogSource, opts: TaskLogOptions, signal: AbortSignal): AsyncGenerator<LogItem> {
  const queue: LogItem[] = [];
  let wake: (() => void) | undefined;
  const push = (item: LogItem): void => {
    queue.push(item);
    wake?.();
  };
  const started = new Set<string>();
  const reasons = new Set<string>();
  let active = 0;

  const look = async (): Promise<void> => {
    const [tasks, nodes] = await Promise.all([src.tasks(), src.nodes()]);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    for (const t of tasks) {
      const id = t.record.id;
      if (started.has(id)) continue;
      if (t.record.nodeId === '') {
        if (!opts.follow) reasons.add(`task ${id} has not been scheduled`);
        if (!opts.follow) started.add(id);
        continue;
      }
      // Followed, a task is read once it runs: read earlier, its stream would end before its container starts.
      if (opts.follow && !(t.status && RAN.has(t.status.state))) continue;
      started.add(id);
      const node = byId.get(t.record.nodeId);
      if (!node?.ready) {
        if (opts.follow) push({ task: t, error: `node ${t.record.nodeId} is not available` });
        else reasons.add(`node ${t.record.nodeId} is not available`);
        continue;
      }
      active++;
      void (async () => {
        try {
          for await (const r of fetchTaskLogs(node.addr, src.port ?? NODE_PORT, id, opts, src.tls, signal)) push({ task: t, record: { ...r, attrs: taskAttrs(t) } });
        } catch (e: unknown) {
          if (signal.aborted) return;
          if (opts.follow) push({ task: t, error: `node ${t.record.nodeId} is not available (${messageOf(e)})` });
          else reasons.add(`node ${t.record.nodeId} is not available`);
        } finally {
          active--;
          wake?.();
        }
      })();
    }
  };

  await look();
  let timer: NodeJS.Timeout | undefined;
  let looking = false;
  if (opts.follow) {
    timer = setInterval(() => {
      if (looking) return;
      looking = true;
      look().then(
        () => (looking = false),
        (e: unknown) => {
          // The service is gone (removed meanwhile): its logs end.
          push({ error: messageOf(e) });
          clearInterval(timer);
        },
      );
    }, LOOK_MS);
  }
  const onAbort = (): void => wake?.();
  signal.addEventListener('abort', onAbort);
  try {
    for (;;) {
      while (queue.length > 0) {
        const item = queue.shift()!;
        yield item;
        if ('error' in item && item.task === undefined) return;
      }
      if (signal.aborted || (!opts.follow && active === 0)) break;
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
    if (!opts.follow && reasons.size > 0) {
      yield { error: `warning: incomplete log stream. some logs could not be retrieved for the following reasons: ${[...reasons].join(', ')}` };
    }
  } finally {
    clearInterval(timer);
    signal.removeEventListener('abort', onAbort);
  }
}
