/**
 * Runs a driver's wiring plan: batches of iproute2 commands in the daemon's namespace
 * and in a sandbox's (`bridge` commands too, in the daemon's). A sandbox that does not exist yet is created by the same process
 * that runs its first batch, so a container's first interface costs two spawns.
 */
import * as fs from 'node:fs';
import { batch } from './links.js';
import { kernelSays, run } from './exec.js';
import { createNetns, ipInNetns } from './netns.js';

export interface PlanStep {
  /** Where and with which tool: `ip` in the daemon's namespace or the sandbox, `bridge` (FDB entries) in the daemon's. */
  in: 'host' | 'sandbox' | 'host-fdb';
  commands: string[];
}

/** `bridge` commands (FDB entries) as one batch in the daemon's namespace; it stops at the first that fails. */
export const bridgeBatch = async (commands: readonly string[]): Promise<void> => void (await run('bridge', ['-batch', '-'], { input: commands.join('\n') + '\n' }));

export async function applyPlan(steps: readonly PlanStep[], sandboxPath: string): Promise<void> {
  let sandboxExists = fs.existsSync(sandboxPath);
  for (const step of steps) {
    if (step.in === 'host') {
      if (step.commands.length > 0) await batch(step.commands);
    } else if (step.in === 'host-fdb') {
      if (step.commands.length > 0) await bridgeBatch(step.commands);
    } else if (!sandboxExists) {
      await createNetns(sandboxPath, ['link set lo up', ...step.commands]);
      sandboxExists = true;
    } else if (step.commands.length > 0) {
      await ipInNetns(sandboxPath, step.commands);
    }
  }
}

/** Runs undo steps one command at a time, ignoring objects already gone; collects other failures. */
export async function applyUndo(steps: readonly PlanStep[], sandboxPath: string): Promise<string[]> {
  const failures: string[] = [];
  for (const step of steps) {
    if (step.in === 'sandbox' && !fs.existsSync(sandboxPath)) continue;
    for (const cmd of step.commands) {
      try {
        if (step.in === 'host') await batch([cmd]);
        else if (step.in === 'host-fdb') await bridgeBatch([cmd]);
        else await ipInNetns(sandboxPath, [cmd]);
      } catch (e: unknown) {
        if (!kernelSays(e, 'missing')) failures.push(String(e));
      }
    }
  }
  return failures;
}

/** A sandbox with only its loopback (docker --network none, or before any join). */
export async function ensureSandbox(sandboxPath: string): Promise<void> {
  if (!fs.existsSync(sandboxPath)) await createNetns(sandboxPath, ['link set lo up']);
}
