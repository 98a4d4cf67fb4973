/**
 * Slow and silent clients, running beside the fuzz: connections that say nothing, stop
 * in the middle of the headers, trickle the headers (slowloris), trickle a whole body, or
 * stall in the body. The daemon must keep answering everyone else meanwhile, answer the
 * complete trickled requests, and cut the silent ones once its header timeout passes.
 */
import * as net from 'node:net';
import { sendRaw } from './client.js';

interface Held {
  what: string;
  sock: net.Socket;
  opened: number;
  closedAfterMs?: number;
  /** First bytes the daemon sent, if any. */
  reply: string;
}

export interface SlowReport {
  violations: string[];
  notes: string[];
}

export interface SlowClients {
  /** Wait until the header-timeout clients are cut or `untilMs` (epoch ms) passes; then close everything. */
  finish(untilMs: number): Promise<SlowReport>;
}

const SILENT = 40;

export function startSlowClients(socketPath: string, tag: string): SlowClients {
  const held: Held[] = [];
  const timers: NodeJS.Timeout[] = [];
  const hold = (what: string, first: string, trickle?: string): Held => {
    const sock = net.createConnection(socketPath);
    const h: Held = { what, sock, opened: Date.now(), reply: '' };
    sock.on('data', (b: Buffer) => {
      if (h.reply.length < 200) h.reply += b.toString('latin1');
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      h.closedAfterMs ??= Date.now() - h.opened;
    });
    sock.on('connect', () => {
      if (first) sock.write(first);
      if (trickle) {
        let i = 0;
        const tick = (): void => {
          if (sock.destroyed || i >= trickle.length) return;
          sock.write(trickle[i++]!);
          timers.push(setTimeout(tick, 1000));
        };
        tick();
      }
    });
    held.push(h);
    return h;
  };
  for (let i = 0; i < SILENT; i++) hold('silent', '');
  for (let i = 0; i < 3; i++) hold('headers cut short', 'POST /networks/create HTTP/1.1\r\nHost: x\r\n');
  hold('slowloris (a header byte a second)', '', `GET /_ping HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(500)}\r\n\r\n`);
  const stalled = [0, 1].map(() => hold('body stalled', 'POST /volumes/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Name":'));

  // Complete requests whose body arrives a byte every 100 ms: they must be answered normally.
  const trickled = [0, 1, 2].map((i) => {
    const body = Buffer.from(JSON.stringify({ Name: `${tag}-slow-${i}` }));
    return sendRaw(socketPath, { method: 'POST', path: '/volumes/create', headers: [['Content-Type', 'application/json']], body, trickle: { chunk: 1, delayMs: 100 } }, { deadlineMs: 20_000 });
  });

  return {
    async finish(untilMs: number): Promise<SlowReport> {
      const violations: string[] = [];
      const notes: string[] = [];
      const headerClients = held.filter((h) => !stalled.includes(h));
      while (Date.now() < untilMs && headerClients.some((h) => h.closedAfterMs === undefined)) {
        await new Promise((r) => setTimeout(r, 500));
      }
      for (const t of timers) clearTimeout(t);
      const answers = await Promise.all(trickled);
      answers.forEach((a, i) => {
        if (a.status !== 201) violations.push(`trickled body (1 byte / 100 ms) #${i}: ${a.outcome} ${a.status} ${a.body.toString().slice(0, 200)}`);
      });
      const byWhat = new Map<string, Held[]>();
      for (const h of held) byWhat.set(h.what, [...(byWhat.get(h.what) ?? []), h]);
      for (const [what, list] of byWhat) {
        const open = list.filter((h) => h.closedAfterMs === undefined);
        const times = list.flatMap((h) => (h.closedAfterMs === undefined ? [] : [h.closedAfterMs]));
        const replies = [...new Set(list.map((h) => h.reply.split('\r\n')[0] || '(nothing)'))];
        const line = `${list.length} × ${what}: ${list.length - open.length} cut by the daemon${times.length ? ` after ${Math.round(Math.min(...times) / 1000)}–${Math.round(Math.max(...times) / 1000)} s` : ''}, ${open.length} still open after ${Math.round((Date.now() - list[0]!.opened) / 1000)} s; daemon said: ${replies.join(' | ')}`;
        if (open.length > 0 && !stalled.includes(list[0]!)) violations.push(line);
        else notes.push(line);
      }
      for (const h of held) h.sock.destroy();
      return { violations, notes };
    },
  };
}
