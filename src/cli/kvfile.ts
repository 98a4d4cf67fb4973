/**
 * docker's kvfile.Parse for `--env-file` and `--label-file`: `KEY=value` lines, blank
 * lines and `#` comments skipped, a BOM ignored; a bare `KEY` takes its value from the
 * user's environment when a lookup is given (env files) and is dropped otherwise.
 */
import { CliError } from './errors.js';

export interface KvFileSource {
  /** Reads a file as text; throws the OS error. */
  readFile(path: string): string;
  /** For env files: the user's environment. */
  lookupEnv?: (name: string) => string | undefined;
}

export function readKvFiles(files: readonly string[], src: KvFileSource): string[] {
  const out: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = src.readFile(file);
    } catch (e: unknown) {
      throw new CliError(`open ${file}: ${osErrorText(e)}`);
    }
    for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
      const line = raw.replace(/^\s+/, '');
      if (line === '' || line.startsWith('#')) continue;
      const eq = line.indexOf('=');
      const key = eq < 0 ? line : line.slice(0, eq);
      if (key === '') throw new CliError(`invalid env file (${file}): no variable name on line '${line}'`);
      if (/[ \t]/.test(key)) throw new CliError(`invalid env file (${file}): variable '${key}' contains whitespaces`);
      if (eq >= 0) {
        out.push(line);
        continue;
      }
      const value = src.lookupEnv?.(line);
      if (value !== undefined) out.push(`${key}=${value}`);
    }
  }
  return out;
}

/** ValidateEnv's lookup: `-e NAME` takes NAME's value from the user's environment if set. */
export function withEnvValue(e: string, lookupEnv: (name: string) => string | undefined): string {
  if (e.includes('=')) return e;
  const value = lookupEnv(e);
  return value === undefined ? e : `${e}=${value}`;
}

/** The text Go gives an OS error ("no such file or directory"). */
export function osErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return e instanceof Error ? e.message : String(e);
}
