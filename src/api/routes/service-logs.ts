/**
 * GET /services/{id}/logs and /tasks/{id}/logs: the lines of a service's tasks (or one
 * task's) from every node they run on, as dockerd writes them: multiplexed (raw when the
 * task has a TTY), each line with the task's attributes in front when `details` is asked
 * (the CLI reads them to print `name.slot.id@node | line`). What could not be read ends
 * the stream on the system-error stream with swarmkit's warning, as dockerd ends it; a
 * task whose node died while followed gets a last line saying so.
 */
import { taskAttrs, type LogItem } from '../../cluster/services/service-logs.js';
import { messageOf } from '../../errors.js';
import type { SwarmState } from '../../cluster/swarm-state.js';
import { drained } from '../../util/streams.js';
import { frame, MULTIPLEXED_STREAM, RAW_STREAM } from '../hijack.js';
import type { ApiRequest, Reply } from '../router.js';
import { boolParam } from '../wire.js';
import { renderLogLine, timeParam } from './containers.js';

export function serviceLogsHandler(swarm: SwarmState, kind: 'service' | 'task', check: (req: ApiRequest) => Promise<void>): (req: ApiRequest) => Promise<Reply> {
  return async (req) => {
    await check(req);
    const m = swarm.managerOrThrow();
    const ref = req.params.id!;
    // Resolved first: an unknown one is a 404 before the stream starts.
    const tty = kind === 'service' ? (await m.services.get(ref)).record.spec.TaskTemplate.ContainerSpec.TTY === true : (await m.services.task(ref)).record.spec.ContainerSpec.TTY === true;
    const stdout = boolParam(req.query, 'stdout');
    const stderr = boolParam(req.query, 'stderr');
    const timestamps = boolParam(req.query, 'timestamps');
    const details = boolParam(req.query, 'details');
    const tailText = req.query.get('tail') ?? 'all';
    const tail = /^\d+$/.test(tailText) ? Number(tailText) : undefined;
    const since = timeParam(req.query.get('since'), 'since');
    const opts = { follow: boolParam(req.query, 'follow'), ...(tail !== undefined ? { tail } : {}), ...(since ? { since } : {}) };
    const ac = new AbortController();
    req.res.on('close', () => ac.abort());
    const items = m.logs(kind === 'service' ? { service: ref } : { task: ref }, opts, ac.signal);
    req.res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED_STREAM, 'Api-Version': '1.44' });
    req.res.flushHeaders();
    const write = async (stream: 1 | 2 | 3, line: Buffer): Promise<void> => {
      if (!req.res.write(tty ? line : frame(stream, line))) await drained(req.res);
    };
    try {
      for await (const item of items) {
        const out = render(item, { timestamps, details });
        if (out.stream === 1 && !stdout) continue;
        if (out.stream === 2 && !stderr) continue;
        await write(out.stream, out.line);
      }
    } catch (e: unknown) {
      // The status is out already: the error ends the stream as dockerd ends it.
      if (!ac.signal.aborted) await write(3, Buffer.from(`Error grabbing logs: ${messageOf(e)}\n`));
    }
    req.res.end();
    return { handled: true };
  };
}

/** An item as dockerd writes it: a line on its stream, a task's end on stderr with the task's attributes, the read's error on the system-error stream. */
function render(item: LogItem, o: { timestamps: boolean; details: boolean }): { stream: 1 | 2 | 3; line: Buffer } {
  if ('record' in item) return { stream: item.record.stream === 'stdout' ? 1 : 2, line: renderLogLine(item.record, o) };
  if (!item.task) return { stream: 3, line: Buffer.from(`Error grabbing logs: ${item.error}\n`) };
  const now = Date.now();
  const record = {
    stream: 'stderr' as const,
    time: { sec: Math.floor(now / 1000), nsec: (now % 1000) * 1e6 },
    line: Buffer.from(`task ${item.task.record.id}: its logs end here: ${item.error}\n`),
    attrs: taskAttrs(item.task),
  };
  return { stream: 2, line: renderLogLine(record, o) };
}
