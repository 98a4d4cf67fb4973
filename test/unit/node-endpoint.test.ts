/** The node-to-node endpoint: who it lets in; the task logs it sends, how a caller hears of a node gone; the clock it tells. */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createRootCa, nodeRequest, signNode, type KeyedCert, type NodeRole } from '../../src/cluster/ca.js';
import { clockRoute, probeClock } from '../../src/cluster/clock.js';
import { serveNodeEndpoint, type NodeTls } from '../../src/cluster/node-endpoint.js';
import { fetchTaskLogs, taskLogsRoute, type TaskLogOptions } from '../../src/cluster/services/log-server.js';
import { gatherLogs, type LogItem } from '../../src/cluster/services/service-logs.js';
import type { TaskView } from '../../src/cluster/services/services.js';
import type { LogRecord } from '../../src/logs/message.js';

async function nodeTls(root: KeyedCert, nodeId: string, role: NodeRole, clusterId = 'c1'): Promise<NodeTls> {
  const req = await nodeRequest(nodeId);
  return { ca: root.cert, cert: await signNode(root, req.csr, { nodeId, role, clusterId }, ['127.0.0.1']), key: req.key };
}

const line = (text: string, sec: number): LogRecord => ({ stream: 'stdout', time: { sec, nsec: 5 }, line: Buffer.from(`${text}\n`), attrs: [] });

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('node endpoint', () => {
  let root: KeyedCert;
  let server: { port: number; close(): Promise<void> };
  let manager: NodeTls;
  const demoted = new Set<string>();
  /** Lines per task; 'hang' never ends (a node that stopped answering). */
  const tasks = new Map<string, LogRecord[] | 'hang'>([['t1', [line('one', 1), line('two', 2)]]]);

  before(async () => {
    root = await createRootCa('c1');
    const self = await nodeTls(root, 'n1', 'worker');
    manager = await nodeTls(root, 'm1', 'manager');
    const read = async function* (taskId: string, opts: TaskLogOptions, signal: AbortSignal): AsyncGenerator<LogRecord> {
      const got = tasks.get(taskId);
      if (got === 'hang') {
        await new Promise((r) => signal.addEventListener('abort', r));
        return;
      }
      yield* (got ?? []).slice(opts.tail !== undefined ? -opts.tail : 0);
    };
    server = await serveNodeEndpoint({
      listen: { host: '127.0.0.1', port: 0 },
      tls: self,
      clusterId: 'c1',
      isManager: async (id) => !demoted.has(id),
      // This node's clock runs 5 s ahead.
      routes: [taskLogsRoute(read, () => undefined), clockRoute(() => Date.now() + 5000)],
    });
  });
  after(async () => server.close());

  it("gives a manager a task's lines, with their streams and times", async () => {
    const got = await collect(fetchTaskLogs('127.0.0.1', server.port, 't1', { follow: false }, manager, new AbortController().signal));
    assert.deepEqual(got.map((r) => [r.line.toString(), r.time.sec, r.time.nsec, r.stream]), [['one\n', 1, 5, 'stdout'], ['two\n', 2, 5, 'stdout']]);
    const tail = await collect(fetchTaskLogs('127.0.0.1', server.port, 't1', { follow: false, tail: 1 }, manager, new AbortController().signal));
    assert.deepEqual(tail.map((r) => r.line.toString()), ['two\n']);
  });

  it("tells its clock to any node of the swarm, measured across the round trip, and not to another swarm's", async () => {
    const worker = await nodeTls(root, 'w1', 'worker');
    const got = await probeClock('127.0.0.1', server.port, worker);
    assert.ok(got.errorMs >= 0 && got.errorMs < 1000, `a round trip on loopback: ${got.errorMs} ms`);
    assert.ok(Math.abs(got.offsetMs - 5000) <= got.errorMs + 5, `5 s ahead, within the error: ${got.offsetMs} ± ${got.errorMs}`);
    await assert.rejects(probeClock('127.0.0.1', server.port, await nodeTls(root, 'm3', 'manager', 'other')), /403: .*a node certificate of this swarm is needed/);
  });

  it("refuses a worker's certificate, a demoted manager's, another swarm's, and no certificate at all", async () => {
    const read = async (tls: NodeTls): Promise<unknown> => collect(fetchTaskLogs('127.0.0.1', server.port, 't1', { follow: false }, tls, new AbortController().signal));
    await assert.rejects(read(await nodeTls(root, 'w1', 'worker')), /403: .*only managers of this swarm read task logs/);
    demoted.add('m2');
    await assert.rejects(read(await nodeTls(root, 'm2', 'manager')), /403/);
    await assert.rejects(read(await nodeTls(root, 'm3', 'manager', 'other')), /403/);
    const stranger = await createRootCa('c1');
    await assert.rejects(read({ ...(await nodeTls(stranger, 'm1', 'manager')), ca: root.cert }));
    await assert.rejects(read({ ca: root.cert, cert: '', key: '' }));
  });

  it("gathers a service's tasks with their IDs, and ends with swarmkit's warning for what it could not read", async () => {
    const view = (id: string, nodeId: string): TaskView => ({
      record: { id, version: 1, createdAt: '', updatedAt: '', serviceId: 's1', nodeId, spec: { ContainerSpec: { Image: 'busybox' } }, serviceVersion: 1, desiredState: 'running' },
      version: 1,
      status: { state: 'running', message: '', timestamp: '', networks: [] },
    });
    const src = {
      tasks: async () => [view('t1', 'n1'), view('t2', ''), view('t3', 'n9')],
      nodes: async () => [
        { id: 'n1', addr: '127.0.0.1', ready: true },
        { id: 'n9', addr: '127.0.0.1', ready: false },
      ],
      tls: manager,
      port: server.port,
    };
    const items: LogItem[] = await collect(gatherLogs(src, { follow: false }, new AbortController().signal));
    const lines = items.flatMap((i) => ('record' in i ? [[i.record.line.toString(), i.record.attrs.map(([, v]) => v).join(',')]] : []));
    assert.deepEqual(lines, [
      ['one\n', 'n1,s1,t1'],
      ['two\n', 'n1,s1,t1'],
    ]);
    assert.deepEqual(items.at(-1), { error: 'warning: incomplete log stream. some logs could not be retrieved for the following reasons: task t2 has not been scheduled, node n9 is not available' });
  });

  it('ends a followed stream when the node closes it mid-way, as a node gone', async () => {
    tasks.set('t4', 'hang');
    const ac = new AbortController();
    const reading = collect(fetchTaskLogs('127.0.0.1', server.port, 't4', { follow: true }, manager, ac.signal));
    await new Promise((r) => setTimeout(r, 200));
    await server.close();
    await assert.rejects(reading, /stream broke off|socket hang up|aborted|ECONNRESET/);
  });
});
