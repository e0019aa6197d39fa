// Notify hooks (`hooks:` in the config): operators' commands run when a target's served set changes
// (on_change) and when a prefix goes up or down (on_state). Fire-and-forget and bounded: per event
// kind at most one command runs at a time and at most QUEUE events wait (the oldest waiting one is
// dropped, and logged, when more come), so a slow or hanging hook never delays or fails an apply and
// cannot pile up processes. A hook that outlives `timeout` is killed with its process group.
import { execa } from 'execa';
import type { Logger } from '../log.js';

export type HookKind = 'on_change' | 'on_state';

export interface HookSettings {
  on_change?: string[];
  on_state?: string[];
  /** ms */
  timeout: number;
}

export const HOOK_QUEUE = 16;
/** what is kept of a hook's stderr for the log */
const OUTPUT_CHARS = 2000;

export interface HookEvent {
  /** the JSON document on the hook's stdin */
  document: Record<string, unknown>;
  /** NAT64_HEALTH_* variables besides the inherited environment */
  env: Record<string, string>;
}

export interface HookResult {
  kind: HookKind;
  ok: boolean;
  exitCode?: number;
  timedOut: boolean;
  error?: string;
}

export class Notifier {
  private readonly queues = new Map<HookKind, HookEvent[]>();
  private readonly running = new Map<HookKind, Promise<void>>();

  constructor(
    private settings: HookSettings,
    private readonly log: Logger,
    /** every finished hook run (tests) */
    private readonly done?: (r: HookResult) => void,
  ) {}

  /** A config reload: the new commands and timeout apply to the next run. */
  configure(settings: HookSettings): void {
    this.settings = settings;
  }

  /** Queues the event for the kind's command, if one is configured; returns at once. */
  fire(kind: HookKind, event: HookEvent): void {
    if (!this.settings[kind]) return;
    const queue = this.queues.get(kind) ?? [];
    this.queues.set(kind, queue);
    queue.push(event);
    if (queue.length > HOOK_QUEUE) {
      queue.shift();
      this.log.warn(`hook ${kind}: ${HOOK_QUEUE} events already waiting; dropped the oldest`);
    }
    if (!this.running.has(kind)) this.running.set(kind, this.drain(kind));
  }

  /** Resolves when no hook runs and none waits (tests, stop). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private async drain(kind: HookKind): Promise<void> {
    const queue = this.queues.get(kind)!;
    for (let event = queue.shift(); event; event = queue.shift()) {
      const argv = this.settings[kind];
      if (!argv) break;
      const result = await this.runOne(kind, argv, event, this.settings.timeout);
      this.done?.(result);
    }
    this.running.delete(kind);
  }

  private async runOne(kind: HookKind, argv: string[], event: HookEvent, timeout: number): Promise<HookResult> {
    const [file, ...args] = argv;
    const cmd = argv.join(' ');
    let timedOut = false;
    // argv only, no shell; its own process group, so the kill at the timeout reaches its children too
    const child = execa(file!, args, {
      input: JSON.stringify(event.document) + '\n',
      env: { NAT64_HEALTH_EVENT: kind, ...event.env },
      reject: false,
      detached: true,
      stdout: 'ignore',
      stderr: 'pipe',
      maxBuffer: 64 * 1024,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeout);
    const r = await child;
    clearTimeout(timer);
    const stderr = String(r.stderr ?? '').slice(0, OUTPUT_CHARS);
    if (timedOut) {
      this.log.warn(`hook ${kind} killed after its timeout`, { command: cmd, timeout_ms: timeout });
      return { kind, ok: false, timedOut: true };
    }
    // exit 0 is success, also when the hook did not read its stdin (EPIPE)
    if (r.failed && r.exitCode !== 0) {
      const error = r.exitCode !== undefined ? `exit status ${r.exitCode}` : (r.shortMessage ?? 'failed');
      this.log.warn(`hook ${kind} failed`, { command: cmd, error, stderr: stderr || undefined });
      return { kind, ok: false, exitCode: r.exitCode, timedOut: false, error };
    }
    this.log.debug(`hook ${kind} ran`, { command: cmd });
    return { kind, ok: true, exitCode: 0, timedOut: false };
  }
}
