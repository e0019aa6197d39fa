// Prometheus' own tools, from Debian's `prometheus` package (which `install-deps.sh test`
// installs): `promtool check metrics` reads an exposition on stdin and names what it finds wrong;
// a real Prometheus server in a test's network namespace scrapes the daemon there every second,
// evaluates the rule files it is given, and answers its HTTP API (through curl inside the
// namespace).
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { execa } from 'execa';
import { terminate, type Netns } from './netns.js';
import { waitFor } from './wait.js';

/** Why `binary` cannot be run here, or null when it can (for itWith). */
function missing(binary: 'promtool' | 'prometheus'): string | null {
  try {
    execFileSync(binary, ['--version'], { stdio: 'ignore' });
    return null;
  } catch {
    return `${binary} is not installed (Debian package prometheus)`;
  }
}

export const promtoolMissing = () => missing('promtool');
export const prometheusMissing = () => missing('prometheus');

/** `promtool check metrics` on an exposition: its exit code and what it said. */
export async function checkMetrics(text: string): Promise<{ exitCode: number; said: string }> {
  const r = await execa('promtool', ['check', 'metrics'], { input: text, reject: false });
  return { exitCode: r.exitCode ?? -1, said: `${r.stdout}${r.stderr}`.trim() };
}

export interface PrometheusOptions {
  dir: string;
  /** host:port scraped as job "nat64-health" */
  target: string;
  ruleFiles: string[];
  /** where the server listens inside the namespace */
  listen?: string;
}

export interface ApiResponse<T> {
  status: 'success' | 'error';
  data: T;
  error?: string;
  errorType?: string;
}

export interface Prometheus {
  /** GET /api/v1/PATH with the parameters (repeated for arrays), parsed */
  api<T>(apiPath: string, params?: Record<string, string | string[]>): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

export async function startPrometheus(ns: Netns, opts: PrometheusOptions): Promise<Prometheus> {
  const listen = opts.listen ?? '127.0.0.1:9090';
  const home = path.join(opts.dir, 'prometheus');
  await mkdir(home, { recursive: true });
  const config = path.join(home, 'prometheus.yml');
  await writeFile(
    config,
    JSON.stringify({
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      rule_files: opts.ruleFiles,
      scrape_configs: [{ job_name: 'nat64-health', static_configs: [{ targets: [opts.target] }] }],
    }),
  );
  const log = path.join(home, 'prometheus.log');
  const child: ChildProcess = ns.spawn(
    [
      'prometheus',
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(home, 'data')}`,
      `--web.listen-address=${listen}`,
      '--log.level=warn',
    ],
    { logFile: log },
  );
  const api = async <T>(apiPath: string, params: Record<string, string | string[]> = {}) => {
    const args = Object.entries(params).flatMap(([k, v]) =>
      (Array.isArray(v) ? v : [v]).flatMap((one) => ['--data-urlencode', `${k}=${one}`]),
    );
    const r = await ns.run(['curl', '-sS', '--max-time', '10', '-G', ...args, `http://${listen}/api/v1/${apiPath}`], {
      timeoutMs: 15_000,
    });
    if (r.exitCode !== 0) throw new Error(`curl /api/v1/${apiPath} failed (${r.exitCode}): ${r.stderr}`);
    return JSON.parse(r.stdout) as ApiResponse<T>;
  };
  await waitFor('Prometheus to be ready', async () => (await api<unknown>('status/buildinfo')).status === 'success');
  return { api, stop: () => terminate(child) };
}
