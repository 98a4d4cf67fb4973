/**
 * Errors of the command-line client. They differ from the daemon's BerthError family:
 * what matters here is how an error is shown and which exit status it gives, the way
 * the docker CLI does it (usage errors 125, everything else 1).
 */

/** A status the CLI exits with after it has already reported what went wrong. */
export class StatusError extends Error {
  constructor(readonly status: number, message = '') {
    super(message);
    this.name = 'StatusError';
  }
}

/** Bad flags or arguments. Shown with a pointer to the command's help. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** "berth network ls": where to point the user for help, if anywhere. */
    readonly commandPath?: string,
    readonly status = 125,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A problem the CLI finds on its own (bad template, inconsistent flags). Exit status 1. */
export class CliError extends Error {
  constructor(message: string, readonly status = 1) {
    super(message);
    this.name = 'CliError';
  }
}

/** The daemon answered with an error status; `message` is the daemon's own text. */
export class DaemonError extends Error {
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'DaemonError';
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  constructor(readonly host: string, readonly code: string | undefined, detail: string) {
    super(connectionMessage(host, code, detail));
    this.name = 'ConnectionError';
  }
}

function connectionMessage(host: string, code: string | undefined, detail: string): string {
  if (code === 'EACCES') {
    return `permission denied while trying to connect to the berth daemon socket at ${host}: ${detail}`;
  }
  if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK') {
    return `Cannot connect to the berth daemon at ${host}. Is berthd running?`;
  }
  return `error during connect: ${detail}`;
}

/** The one line (or block) the CLI prints for an error, as docker words it. */
export function describeError(e: unknown): string {
  if (e instanceof DaemonError) return `Error response from daemon: ${e.message}`;
  if (e instanceof UsageError) {
    return e.commandPath ? `${e.message}\nSee '${e.commandPath} --help'.` : e.message;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

/** The exit status for an error, as docker chooses it. */
export function exitStatusOf(e: unknown): number {
  if (e instanceof StatusError || e instanceof UsageError || e instanceof CliError) return e.status;
  return 1;
}
