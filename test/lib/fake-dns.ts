/** A fake upstream DNS server for tests: answers A queries from a fixed table, NXDOMAIN otherwise. */
import type * as dgram from 'node:dgram';
import { openSocketsInNetns } from '../../src/kernel/nssocket.js';

export class FakeUpstream {
  readonly seen: Array<{ name: string; from: string }> = [];

  constructor(
    private readonly socket: dgram.Socket,
    private readonly table: Record<string, string>,
  ) {
    socket.on('message', (q: Buffer, r: dgram.RemoteInfo) => this.onQuery(q, r));
  }

  /** Listen on address:53 inside the namespace bound at nsPath. */
  static async start(nsPath: string, address: string, table: Record<string, string>): Promise<FakeUpstream> {
    const [socket] = await openSocketsInNetns(nsPath, [{ kind: 'udp4', address, port: 53 }] as const);
    return new FakeUpstream(socket, table);
  }

  private onQuery(q: Buffer, r: dgram.RemoteInfo): void {
    let end = 12;
    while (end < q.length && q[end] !== 0) end += q[end]! + 1;
    const labels: string[] = [];
    for (let p = 12; p < end; p += q[p]! + 1) labels.push(q.subarray(p + 1, p + 1 + q[p]!).toString());
    const name = labels.join('.').toLowerCase();
    this.seen.push({ name, from: r.address });
    const question = q.subarray(12, end + 5);
    const type = q.readUInt16BE(end + 1);
    const known = name in this.table;
    const ip = type === 1 ? this.table[name] : undefined;
    const head = Buffer.from(q.subarray(0, 12));
    // A known name without a record of the asked type is NOERROR with no answer, as real servers say.
    head.writeUInt16BE(known ? 0x8180 : 0x8183, 2);
    head.writeUInt16BE(ip ? 1 : 0, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const answer = ip ? Buffer.concat([Buffer.from('c00c000100010000000500' + '04', 'hex'), Buffer.from(ip.split('.').map(Number))]) : Buffer.alloc(0);
    this.socket.send(Buffer.concat([head, question, answer]), r.port, r.address);
  }

  close(): void {
    this.socket.close();
  }
}
