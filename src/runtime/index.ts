/** The container runtime: OCI bundles run by runc (or crun) under conmon. */
export { createRuntime, type RuntimeOptions } from './runtime.js';
export { ociConfig, execProcess, type OciConfig, type HostFacts } from './oci.js';
export { readLogs, parseLogLine } from './logs.js';
export { probeOciRuntime } from './runc.js';
export { commandFailureCode } from './exec.js';
export type * from './types.js';
