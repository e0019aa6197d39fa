// `run` as a service: the daemon with what a service needs around it - systemd notifications, the
// HTTP observer (/metrics, status page) and the signals (SIGHUP reloads; SIGTERM and SIGINT stop).
import type { Config } from '../config/load.js';
import { combineHooks, Daemon } from '../daemon/daemon.js';
import { systemdNotifier } from '../daemon/systemd.js';
import type { Logger } from '../lib/log.js';

export interface ServiceOptions {
  /** null: the embedded default config */
  configPath: string | null;
  config: Config;
  log: Logger;
  dryRun?: boolean;
  /** watch the config files (SIGHUP works regardless) */
  watch?: boolean;
}

/** Runs the daemon until SIGTERM or SIGINT, and until what it started has finished. */
export async function runService(opts: ServiceOptions): Promise<void> {
  const { configPath: path, config, log } = opts;
  // Under systemd (Type=notify): READY=1 after the first round, STATUS= with the active prefixes.
  const notifier = systemdNotifier({ log });
  // http.listen: /metrics and the status page; bound before the first round so a taken port fails fast.
  // Loaded only when configured: prom-client and the page cost memory a plain sidecar does not need.
  const observer = config.http ? await (await import('../observe/observer.js')).startObserver(config.http, log) : null;
  const daemon = new Daemon({
    configPath: path,
    config,
    log,
    dryRun: opts.dryRun,
    watch: opts.watch,
    hooks: combineHooks(notifier?.hooks, observer?.hooks),
  });
  observer?.useApplyHistory(daemon.applyHistory);
  // The one place that listens to signals: the daemon and the notifier are told, in this order.
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
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  try {
    await daemon.start();
    // the loop has ended; the stop still lets applies in flight and running hooks finish
    await stop.done;
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    await observer?.close();
  }
  await notifier?.close();
  log.info('stopped');
}
