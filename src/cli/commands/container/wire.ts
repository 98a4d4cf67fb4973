/** The parts of Docker's container JSON the CLI reads (the daemon sends more). */
import { isRecord } from '../../../util/template/values.js';

/** One entry of a summary's `Ports`; IP and PublicPort are absent for unpublished ports. */
export interface ApiPort {
  readonly IP?: string;
  readonly PrivatePort: number;
  readonly PublicPort?: number;
  readonly Type: string;
}

export interface ApiMountPoint {
  readonly Type?: string;
  readonly Name?: string;
  readonly Source?: string;
  readonly Destination?: string;
  readonly Driver?: string;
}

/** An item of `GET /containers/json`. */
export interface ContainerSummary {
  readonly Id: string;
  readonly Names?: readonly string[] | null;
  readonly Image?: string;
  readonly ImageID?: string;
  readonly Command?: string;
  readonly Created?: number;
  readonly Ports?: readonly ApiPort[] | null;
  readonly SizeRw?: number;
  readonly SizeRootFs?: number;
  readonly Labels?: Readonly<Record<string, string>> | null;
  readonly State?: string;
  readonly Status?: string;
  readonly NetworkSettings?: { readonly Networks?: Readonly<Record<string, unknown>> | null } | null;
  readonly Mounts?: readonly ApiMountPoint[] | null;
}

export interface PortBinding {
  readonly HostIp: string;
  readonly HostPort: string;
}

/** `GET /containers/{id}/json`, as far as the verbs need it. */
export interface ContainerInspect {
  readonly Id: string;
  readonly Name?: string;
  readonly Config?: { readonly Tty?: boolean; readonly OpenStdin?: boolean } | null;
  readonly State?: { readonly Running?: boolean; readonly Paused?: boolean; readonly Restarting?: boolean } | null;
  readonly HostConfig?: { readonly AutoRemove?: boolean } | null;
  readonly NetworkSettings?: { readonly Ports?: Readonly<Record<string, readonly PortBinding[] | null>> | null } | null;
}

export function isContainerSummary(v: unknown): v is ContainerSummary {
  return isRecord(v) && typeof v.Id === 'string';
}

export function isContainerInspect(v: unknown): v is ContainerInspect {
  return isRecord(v) && typeof v.Id === 'string';
}

/** `POST /containers/{id}/wait`: the exit status, or why waiting failed. */
export interface WaitResponse {
  readonly StatusCode: number;
  readonly Error?: { readonly Message?: string } | null;
}

export function isWaitResponse(v: unknown): v is WaitResponse {
  return isRecord(v) && typeof v.StatusCode === 'number';
}

/** Path of one container: the name or ID is one path segment. */
export function containerPath(nameOrId: string, suffix = ''): string {
  return `/containers/${encodeURIComponent(nameOrId)}${suffix}`;
}

/** `GET /exec/{id}/json`: the CLI reads only these. */
export interface ExecInspect {
  readonly ID?: string;
  readonly Running?: boolean;
  readonly ExitCode?: number | null;
}
