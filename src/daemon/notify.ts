// Notify hooks (`hooks:` in the config): operators' commands run when a target's served set changes
// (on_change) and when a prefix goes up or down (on_state). Fire-and-forget and bounded: per event
// kind at most one command runs at a time and at most QUEUE events wait (the oldest waiting one is
// dropped, and logged, when more come), so a slow or hanging hook never delays or fails an apply and
// cannot pile up processes. A hook that outlives `timeout` is killed with its process group.
// When the daemon stops, the hooks running (or waiting) get until `timeout` from the stop to end,
// so the hook of the last apply is neither left behind nor cut off unlogged; then they are killed.
import { execa } from 'execa';
import type { ServedChange } from '../apply/runner.js';
import type { Logger } from '../lib/log.js';

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

/**
 * The on_change event of an apply that changed what `target` serves: the document is the change
 * itself (with `pools` when pools are configured); the variables carry the sets for hooks that do
 * not read JSON, NAT64_HEALTH_POOLS only with pools (`name=prefix,prefix` per pool, by spaces).
 */
export function changeEvent(target: string, c: ServedChange): HookEvent {
  return {
    document: { event: 'change', target, ...c },
    env: {
      NAT64_HEALTH_TARGET: target,
      NAT64_HEALTH_ACTIVE: c.new.join(' '),
      NAT64_HEALTH_OLD: c.old?.join(' ') ?? '',
      NAT64_HEALTH_DRAINING: c.draining.join(' '),
      NAT64_HEALTH_REASON: c.reason,
      ...(c.pools
        ? {
            NAT64_HEALTH_POOLS: Object.entries(c.pools)
              .map(([name, sets]) => `${name}=${sets.new.join(',')}`)
              .join(' '),
          }
        : {}),
    },
  };
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
  /** the process of each kind's run in progress */
  private readonly children = new Map<HookKind, { pid: number; command: string; started: number; killed: boolean }>();
  private stopping = false;
  /** the stop's deadline passed: what still runs is killed, what waits is dropped */
  private cutOff = false;

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
    if (this.cutOff) {
      this.log.warn(`hook ${kind}: not run, the daemon is stopping and the hooks' time is over`);
      return;
    }
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

  /**
   * At the daemon's stop: waits for the hooks that run or wait, at most `timeout` from now; then
   * kills those still running with their process groups (as the timeout does) and drops the rest.
   * Logs what it waited for and what it killed.
   */
  async stop(): Promise<void> {
    if (this.stopping) return this.idle();
    this.stopping = true;
    if (this.running.size === 0) return;
    const now = Date.now();
    const running = [...this.children].map(([kind, c]) => ({
      kind,
      command: c.command,
      running_ms: now - c.started,
    }));
    const waiting = [...this.queues.values()].reduce((n, q) => n + q.length, 0);
    const timeout = this.settings.timeout;
    this.log.info('stopping: waiting for notify hooks', { running, waiting, timeout_ms: timeout });
    const timer = setTimeout(() => {
      this.cutOff = true;
      for (const c of this.children.values()) {
        c.killed = true;
        killGroup(c.pid);
      }
    }, timeout);
    await this.idle();
    clearTimeout(timer);
  }

  private async drain(kind: HookKind): Promise<void> {
    const queue = this.queues.get(kind)!;
    for (let event = queue.shift(); event; event = queue.shift()) {
      if (this.cutOff) {
        this.log.warn(`hook ${kind}: ${queue.length + 1} waiting event(s) dropped, the daemon stopped`);
        queue.length = 0;
        break;
      }
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
    const run = { pid: child.pid ?? 0, command: cmd, started: Date.now(), killed: false };
    if (child.pid) this.children.set(kind, run);
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid) killGroup(child.pid);
    }, timeout);
    const r = await child;
    clearTimeout(timer);
    this.children.delete(kind);
    const stderr = String(r.stderr ?? '').slice(0, OUTPUT_CHARS);
    if (timedOut || run.killed) {
      const why = timedOut ? 'after its timeout' : 'at the stop, when the time for hooks was over';
      this.log.warn(`hook ${kind} killed ${why}`, { command: cmd, timeout_ms: timeout });
      return { kind, ok: false, timedOut: true };
    }
    if (this.stopping) this.log.info(`hook ${kind} ended during the stop`, { command: cmd, exit: r.exitCode });
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

/** SIGKILL to a hook's process group (its children too). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
