// Ties the observability pieces to the daemon: a snapshot hook feeds the metrics and the latency
// history; the HTTP server serves /metrics, / and /status.json from them, and /history.json and
// /history/TARGET/ID from the daemon's apply history.
import type { DaemonHooks } from '../daemon/daemon.js';
import type { StateSnapshot } from '../daemon/state-file.js';
import type { Decision } from '../core/step.js';
import { errorDetail } from '../lib/format.js';
import type { Logger } from '../lib/log.js';
import { LatencyHistory } from './history.js';
import { HttpServer } from './http-server.js';
import { parseListen, type ListenAddress } from '../config/listen.js';
import { Metrics } from './metrics.js';
import { renderStatusPage } from './status-page.js';
import type { ApplyHistoryView } from '../apply/history-store.js';
import type { AppliedRecord } from '../apply/runner.js';
import { historyPath, parseHistoryPath, renderHistoryEntryPage } from './apply-history-page.js';

/** The status page is self-contained (inline style, no script, nothing fetched) and never framed. */
const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface ObserverOptions {
  /** `http.listen` of the config */
  listen: string;
  log: Logger;
  now?: () => number;
  history?: LatencyHistory;
  /** port 0 picks a free port (tests) */
  allowPortZero?: boolean;
}

export class Observer {
  readonly metrics = new Metrics();
  readonly history: LatencyHistory;
  private latest: StateSnapshot | null = null;
  private applyHistory: ApplyHistoryView | null = null;
  private readonly server: HttpServer;
  private readonly now: () => number;
  private readonly log: Logger;

  /** Pass these to the Daemon (combined with any other hooks: see combineHooks). */
  readonly hooks: DaemonHooks = {
    snapshot: (snapshot, decision) => this.onSnapshot(snapshot, decision),
    applied: (record) => this.onApplied(record),
  };

  constructor(opts: ObserverOptions) {
    const listen = parseListen(opts.listen, { allowPortZero: opts.allowPortZero });
    if (typeof listen === 'string') throw new Error(`http.listen ${opts.listen}: ${listen}`);
    this.log = opts.log;
    this.now = opts.now ?? Date.now;
    this.history = opts.history ?? new LatencyHistory();
    this.server = new HttpServer({
      listen: listen satisfies ListenAddress,
      log: opts.log,
      onResponse: (handler, status) => this.metrics.httpRequests.inc({ handler, code: String(status) }),
      routes: {
        '/metrics': async () => ({
          status: 200,
          contentType: this.metrics.contentType,
          body: await this.metrics.metrics(),
        }),
        '/': () => ({
          status: 200,
          contentType: 'text/html; charset=utf-8',
          body: renderStatusPage({
            snapshot: this.latest,
            history: this.history,
            now: this.now(),
            applyLink: (a) => {
              const e = this.applyHistory?.entryFor(a.target, a.at);
              return e ? { href: historyPath(e), text: `#${e.id}` } : null;
            },
          }),
          headers: { 'Content-Security-Policy': STATUS_PAGE_CSP },
        }),
        '/history.json': () => ({
          status: 200,
          contentType: 'application/json; charset=utf-8',
          body: JSON.stringify({ entries: this.applyHistory?.all() ?? [] }, null, 2) + '\n',
        }),
        '/history/': (path) => {
          const at = parseHistoryPath(path);
          const e = at && this.applyHistory?.find(at.target, at.id);
          if (!e)
            return {
              status: 404,
              contentType: 'text/plain; charset=utf-8',
              body: '404 Not Found: no such apply in the history (see /history.json)\n',
            };
          return {
            status: 200,
            contentType: 'text/html; charset=utf-8',
            body: renderHistoryEntryPage(e, this.now()),
            headers: { 'Content-Security-Policy': STATUS_PAGE_CSP },
          };
        },
        '/status.json': () =>
          this.latest
            ? {
                status: 200,
                contentType: 'application/json; charset=utf-8',
                body: JSON.stringify(this.latest, null, 2) + '\n',
              }
            : {
                status: 503,
                contentType: 'application/json; charset=utf-8',
                body: JSON.stringify({ error: 'no probe round has completed yet' }) + '\n',
                headers: { 'Retry-After': '2' },
              },
      },
    });
  }

  /** The daemon's apply history: the status page links its applies to their entries. */
  useApplyHistory(view: ApplyHistoryView): void {
    this.applyHistory = view;
  }

  /** Binds the HTTP server; rejects with a clear ListenError (EADDRINUSE and the like). */
  start() {
    return this.server.listen();
  }

  address() {
    return this.server.address();
  }

  close(): Promise<void> {
    return this.server.close();
  }

  /** Never throws: a metrics bug must not fail an apply. */
  onApplied(record: AppliedRecord): void {
    try {
      this.metrics.countApply(record);
    } catch (err) {
      this.log.error('observer: cannot count an apply in the metrics', { error: errorDetail(err) });
    }
  }

  /** Never throws: a metrics bug must not fail a daemon round. */
  onSnapshot(snapshot: StateSnapshot, decision: Decision | null): void {
    try {
      const isNewRound = snapshot.round !== this.latest?.round;
      this.latest = snapshot;
      this.metrics.update(snapshot, decision);
      const t = Date.parse(snapshot.updated_at);
      this.history.retain(snapshot.prefixes.map((p) => p.prefix));
      if (isNewRound && !Number.isNaN(t)) {
        for (const p of snapshot.prefixes) {
          if (!p.last_round) continue;
          this.history.record(p.prefix, t, p.last_round.good ? p.last_round.latency_ms : null);
        }
      }
    } catch (err) {
      this.log.error('observer: cannot update metrics from the snapshot', {
        error: errorDetail(err),
      });
    }
  }
}

/** Creates and binds the observer for `http.listen`; null when the config has no http section. */
export async function startObserver(http: { listen: string } | undefined, log: Logger): Promise<Observer | null> {
  if (!http) return null;
  const observer = new Observer({ listen: http.listen, log });
  await observer.start();
  return observer;
}
