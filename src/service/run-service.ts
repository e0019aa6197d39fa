// The daemon as a service: what `nat64-health run` starts. It wires the daemon to the outside: the
// signals (SIGHUP reloads, SIGTERM and SIGINT stop), the HTTP observer (/metrics, status page) and
// systemd's notify protocol. The one place that listens to signals.
import { combineHooks, Daemon, type DaemonOptions } from '../daemon/daemon.js';
import { systemdNotifier } from '../daemon/systemd.js';
import { WriterLocks } from '../daemon/writer-locks.js';

/** Where the signals come from: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/** The daemon's options (its `hooks` run after the notifier's and the observer's), and where it runs. */
export interface ServiceOptions extends DaemonOptions {
  /** default: the process */
  signals?: SignalSource;
  /** under systemd (default: the process's environment, NOTIFY_SOCKET) */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the daemon until SIGTERM or SIGINT, then lets it finish; resolves once everything is closed.
 * Throws SecondWriterError, before anything is written or bound, when another `run` holds the
 * state file's or a local output's lock (a dry run writes nothing and takes none).
 */
export async function runService(opts: ServiceOptions): Promise<void> {
  const { signals = process, env, hooks, ...daemonOptions } = opts;
  const { config, log } = daemonOptions;
  const locks = daemonOptions.dryRun ? null : new WriterLocks(log);
  locks?.hold(config);
  try {
    await serve({ ...daemonOptions, locks: locks ?? undefined }, signals, env, hooks);
  } finally {
    locks?.release();
  }
}

async function serve(
  daemonOptions: DaemonOptions,
  signals: SignalSource,
  env: NodeJS.ProcessEnv | undefined,
  hooks: DaemonOptions['hooks'],
): Promise<void> {
  const { config, log } = daemonOptions;
  // Under systemd (Type=notify): READY=1 after the first round, STATUS= with the active prefixes.
  const notifier = systemdNotifier({ log, env });
  // http.listen: /metrics and the status page; bound before the first round so a taken port fails fast.
  // Loaded only when configured: prom-client and the page cost memory a plain sidecar does not need.
  const observer = config.http ? await startObserver(config.http, log, !!daemonOptions.dryRun) : null;
  const daemon = new Daemon({
    ...daemonOptions,
    hooks: combineHooks(notifier?.hooks, observer?.hooks, hooks),
  });
  observer?.useApplyHistory(daemon.applyHistory);
  // The daemon and the notifier are told, in this order.
  const onHup = () => {
    log.info('SIGHUP: re-reading the configuration');
    notifier?.reloading();
    daemon.reload();
  };
  const stop: { done?: Promise<void> } = {};
  const onStop = (signal: NodeJS.Signals) => {
    log.info(`${signal}: stopping after the current step`);
    notifier?.stopping();
    stop.done ??= daemon.stop();
  };
  signals.on('SIGHUP', onHup);
  signals.on('SIGTERM', onStop);
  signals.on('SIGINT', onStop);
  try {
    await daemon.start();
    // the loop has ended; the stop still lets applies in flight and running hooks finish
    await stop.done;
  } finally {
    signals.off('SIGHUP', onHup);
    signals.off('SIGTERM', onStop);
    signals.off('SIGINT', onStop);
    await observer?.close();
  }
  await notifier?.close();
  log.info('stopped');
}

/** A dry run beside the daemon finds its port taken: it goes on without the page, it serves nobody. */
async function startObserver(
  http: NonNullable<DaemonOptions['config']['http']>,
  log: DaemonOptions['log'],
  dryRun: boolean,
) {
  const { startObserver: start } = await import('../observe/observer.js');
  try {
    return await start(http, log);
  } catch (err) {
    if (!dryRun) throw err;
    log.warn('dry run: no /metrics and status page', { listen: http.listen, error: (err as Error).message });
    return null;
  }
}
