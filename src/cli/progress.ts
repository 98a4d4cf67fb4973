/**
 * docker's jsonmessage display for pull/import/load progress streams. On a terminal each
 * layer ID keeps its own line, rewritten in place with cursor movements and a progress
 * bar; elsewhere progress updates are dropped and every other message is one line.
 * A message with an error ends the display with that error (no "Error response from
 * daemon" prefix, as docker prints it).
 */
import { humanSize } from '../util/humanize.js';

export interface ProgressDetail {
  readonly current?: number;
  readonly total?: number;
  readonly start?: number;
  readonly hidecounts?: boolean;
  readonly units?: string;
}

/** One message of the stream; only the fields the display reads. */
export interface JsonMessage {
  readonly stream?: string;
  readonly status?: string;
  readonly progressDetail?: ProgressDetail;
  readonly progress?: string;
  readonly id?: string;
  readonly error?: string;
  readonly errorDetail?: { readonly code?: number; readonly message?: string };
  readonly aux?: unknown;
}

export interface DisplayOptions {
  readonly terminal: boolean;
  /** Terminal width: the bar needs more than 110 columns, the time left more than 50. */
  readonly width?: number;
  /** Receives `aux` messages (they are not shown). */
  readonly onAux?: (aux: unknown) => void;
  readonly now?: () => number;
}

/** A progress stream that reported a failure; its message is shown as is. */
export class StreamMessageError extends Error {
  constructor(message: string, readonly code?: number) {
    super(message);
    this.name = 'StreamMessageError';
  }
}

export async function displayJsonMessages(messages: AsyncIterable<unknown> | Iterable<unknown>, out: NodeJS.WritableStream, opts: DisplayOptions): Promise<void> {
  const lines = new Map<string, number>();
  for await (const raw of messages) {
    const jm = asMessage(raw);
    if (jm.aux !== undefined) {
      opts.onAux?.(jm.aux);
      continue;
    }
    let diff = 0;
    if (jm.id && (jm.progressDetail !== undefined || jm.progress)) {
      let line = lines.get(jm.id);
      if (line === undefined) {
        line = lines.size;
        lines.set(jm.id, line);
        if (opts.terminal) out.write('\n');
      }
      diff = lines.size - line;
      if (opts.terminal) out.write(cursorUp(diff));
    } else {
      lines.clear();
    }
    const failure = jm.errorDetail !== undefined ? jm.errorDetail : jm.error !== undefined ? { message: jm.error } : undefined;
    if (failure) throw new StreamMessageError(failure.message ?? '', failure.code);
    out.write(renderMessage(jm, opts));
    if (jm.id && opts.terminal) out.write(cursorDown(diff));
  }
}

function asMessage(v: unknown): JsonMessage {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonMessage) : {};
}

const cursorUp = (n: number): string => (n > 0 ? `\x1b[${n}A` : '');
const cursorDown = (n: number): string => (n > 0 ? `\x1b[${n}B` : '');
const CLEAR_LINE = '\x1b[2K';

/** JSONMessage.Display: one message as text ('' for progress updates off a terminal). */
export function renderMessage(jm: JsonMessage, opts: DisplayOptions): string {
  const bar = jm.progressDetail ? progressString(jm.progressDetail, opts) : '';
  let text = '';
  let endl = '';
  if (opts.terminal && !jm.stream && jm.progressDetail !== undefined) {
    endl = '\r';
    text += `${CLEAR_LINE}${endl}`;
  } else if (jm.progressDetail !== undefined && bar !== '') {
    return '';
  }
  if (jm.id) text += `${jm.id}: `;
  if (jm.progressDetail !== undefined && opts.terminal) text += `${jm.status ?? ''} ${bar}${endl}`;
  else if (jm.progress) text += `${jm.status ?? ''} ${jm.progress}${endl}`;
  else if (jm.stream) text += `${jm.stream}${endl}`;
  else text += `${jm.status ?? ''}${endl}\n`;
  return text;
}

/** JSONProgress.String: `[====>   ]  1.2MB/4.3MB 3s`. */
export function progressString(p: ProgressDetail, opts: DisplayOptions): string {
  const current = p.current ?? 0;
  const total = p.total ?? 0;
  const width = opts.width ?? 200;
  if (current <= 0 && total <= 0) return '';
  if (total <= 0) return p.units ? `${current} ${p.units}` : humanSize(current).padStart(8);
  const percentage = Math.min(50, Math.trunc(Math.trunc((current / total) * 100) / 2));
  const box = width > 110 ? `[${'='.repeat(percentage)}>${' '.repeat(Math.max(0, 50 - percentage))}] ` : '';
  let numbers = '';
  if (!p.hidecounts) {
    if (p.units) numbers = current > total ? `${current} ${p.units}` : `${current}/${total} ${p.units}`;
    else numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  }
  let left = '';
  if (width > 50 && current > 0 && p.start && p.start > 0 && percentage < 50) {
    const now = (opts.now ?? Date.now)();
    const perEntry = (now - p.start * 1000) / current;
    left = ` ${goDuration(Math.round(((total - current) * perEntry) / 1000))}`;
  }
  return box + numbers + left;
}

/** Go's Duration.String for whole seconds: "0s", "45s", "1m5s", "2h0m3s". */
export function goDuration(seconds: number): string {
  if (seconds <= 0) return '0s';
  const h = Math.trunc(seconds / 3600);
  const m = Math.trunc((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
