/**
 * What a log driver knows of its container (Docker's logger.Info), the extra
 * attributes the labels/env options pick (ExtraAttributes), and the tag template
 * (ParseLogTag: `{{.Name}}`, `{{.ID}}` …, the default `{{.ID}}`).
 */
import { Template, TemplateError } from '../util/template/exec.js';

export interface LogInfo {
  /** The container's log options (after the daemon's defaults were merged at create). */
  config: Readonly<Record<string, string>>;
  /** 64 hex digits. */
  containerId: string;
  /** With Docker's leading slash ("/web"). */
  containerName: string;
  /** The process's path (the first word of entrypoint + cmd) and its arguments. */
  entrypoint: string;
  args: readonly string[];
  /** "sha256:…" */
  imageId: string;
  /** The image as the user named it (Config.Image). */
  imageName: string;
  /** RFC 3339 with nanoseconds. */
  created: string;
  env: readonly string[];
  labels: Readonly<Record<string, string>>;
  /** The daemon's host name (os.Hostname in Docker). */
  hostname: string;
}

/** Docker's DaemonName: templates written for Docker expect it. */
export const DAEMON_NAME = 'docker';

export const COMMON_KEYS = ['env', 'env-regex', 'labels', 'labels-regex', 'tag'] as const;

/** stringid.TruncateID: the algorithm prefix dropped, 12 characters. */
export function truncateId(id: string): string {
  const colon = id.indexOf(':');
  return (colon >= 0 ? id.slice(colon + 1) : id).slice(0, 12);
}

/** Name without Docker's leading slash. */
export function plainName(info: LogInfo): string {
  return info.containerName.replace(/^\//, '');
}

/** Entrypoint and arguments joined by spaces (Docker's Info.Command). */
export function command(info: LogInfo): string {
  return [info.entrypoint, ...info.args].join(' ');
}

/**
 * The attributes `labels`, `labels-regex`, `env` and `env-regex` pick, keys changed
 * by keyMod (journald upper-cases them, GELF prefixes "_"). Throws on a bad regex.
 */
export function extraAttributes(info: LogInfo, keyMod: (k: string) => string = (k) => k): Record<string, string> {
  const extra: Record<string, string> = {};
  const cfg = info.config;
  for (const l of (cfg.labels ?? '').split(',')) {
    if (l !== '' && Object.hasOwn(info.labels, l)) extra[keyMod(l)] = info.labels[l]!;
  }
  if (cfg['labels-regex']) {
    const re = goRegexp(cfg['labels-regex']);
    for (const [k, v] of Object.entries(info.labels)) if (re.test(k)) extra[keyMod(k)] = v;
  }
  const env = new Map<string, string>();
  for (const e of info.env) {
    const eq = e.indexOf('=');
    if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  if (env.size === 0) return extra;
  for (const k of (cfg.env ?? '').split(',')) {
    if (k !== '' && env.has(k)) extra[keyMod(k)] = env.get(k)!;
  }
  if (cfg['env-regex']) {
    const re = goRegexp(cfg['env-regex']);
    for (const [k, v] of env) if (re.test(k)) extra[keyMod(k)] = v;
  }
  return extra;
}

/** Go's regexp.Compile, as far as JavaScript's syntax is RE2's; the error in Go's words. */
export function goRegexp(src: string): RegExp {
  try {
    return new RegExp(src);
  } catch (e: unknown) {
    throw new Error(`error parsing regexp: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
}

/** The names a tag template sees (Docker's Info fields and methods). */
function templateData(info: LogInfo): Record<string, unknown> {
  return {
    ID: info.containerId.slice(0, 12),
    FullID: info.containerId,
    Name: plainName(info),
    ImageID: truncateId(info.imageId),
    ImageFullID: info.imageId,
    ImageName: info.imageName,
    Command: command(info),
    Hostname: info.hostname,
    DaemonName: DAEMON_NAME,
    Config: { ...info.config },
    ContainerID: info.containerId,
    ContainerName: info.containerName,
    ContainerEntrypoint: info.entrypoint,
    ContainerArgs: [...info.args],
    ContainerImageID: info.imageId,
    ContainerImageName: info.imageName,
    ContainerCreated: info.created,
    ContainerEnv: [...info.env],
    ContainerLabels: { ...info.labels },
    LogPath: '',
  };
}

/** ParseLogTag: the `tag` option rendered, else `defaultTemplate` ("" for none). Throws Go's template errors. */
export function logTag(info: LogInfo, defaultTemplate: string): string {
  const src = info.config.tag || defaultTemplate;
  if (src === '') return '';
  try {
    return Template.parse(src).execute(templateData(info));
  } catch (e: unknown) {
    if (e instanceof TemplateError) throw new Error(e.message.replace(/^template: :/, 'template: log-tag:'));
    throw e;
  }
}
