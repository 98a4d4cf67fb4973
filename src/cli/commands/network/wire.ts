/** The parts of Docker's network JSON the CLI reads (the daemon sends more). */
export interface NetworkSummary {
  readonly Name: string;
  readonly Id: string;
  readonly Created?: string;
  readonly Scope?: string;
  readonly Driver?: string;
  readonly EnableIPv6?: boolean;
  readonly Internal?: boolean;
  readonly Labels?: Record<string, string> | null;
}

export function isNetworkSummary(v: unknown): v is NetworkSummary {
  return typeof v === 'object' && v !== null && typeof (v as { Id?: unknown }).Id === 'string' && typeof (v as { Name?: unknown }).Name === 'string';
}

/** Path of one network: the name or ID is one path segment. */
export function networkPath(nameOrId: string, suffix = ''): string {
  return `/networks/${encodeURIComponent(nameOrId)}${suffix}`;
}
