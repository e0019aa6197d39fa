// Logs for journald: one line per event, readable text by default or JSON (--log-format json).
//
// Under systemd stderr is a stream into the journal, which gives every line the unit's default
// priority (info) unless the line starts with an sd-daemon(3) prefix `<N>` (SyslogLevelPrefix=,
// on by default). So when stderr is that stream — JOURNAL_STREAM (systemd.exec(5)) names its
// device and inode — each line carries its level's priority and `journalctl -p warning` shows
// warnings and errors only. Anywhere else (a terminal, a pipe, a file) lines stay unprefixed.
import { fstatSync } from 'node:fs';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
/** syslog priorities (sd-daemon.h: SD_ERR, SD_WARNING, SD_INFO, SD_DEBUG) */
const PRIORITIES: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** receives each line without its newline (default: stderr, with priority prefixes when it is the journal) */
  write?: (line: string) => void;
  /** when write is not given: the environment that tells whether stderr is the journal (default process.env) */
  env?: NodeJS.ProcessEnv;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? 'info'];
  const toStderr = stderrWriter(opts.env);
  const write = opts.write ? (_level: LogLevel, line: string) => opts.write!(line) : toStderr;
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (LEVELS[level] < min) return;
    if (opts.format === 'json') {
      write(level, JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
    // One event, one line: a newline in the message would start a second journal entry.
    write(level, `${level.toUpperCase().padEnd(5)} ${msg.replace(/\r?\n/g, ' ')}${extra ? ` ${extra}` : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** `<N>` before every line of text, N being the level's syslog priority. */
export function withPriority(level: LogLevel, text: string): string {
  return text
    .split('\n')
    .map((line) => `<${PRIORITIES[level]}>${line}`)
    .join('\n');
}

/**
 * Whether stderr is connected to the journal: JOURNAL_STREAM is "DEVICE:INODE" of the stream
 * systemd connected, and it must be fd 2 itself (the variable is inherited by processes whose
 * stderr was redirected elsewhere).
 */
export function stderrIsJournal(
  env: NodeJS.ProcessEnv = process.env,
  stat: () => { dev: bigint; ino: bigint } = () => fstatSync(2, { bigint: true }),
): boolean {
  const [, dev, ino] = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '') ?? [];
  if (dev === undefined || ino === undefined) return false;
  try {
    const s = stat();
    return s.dev === BigInt(dev) && s.ino === BigInt(ino);
  } catch {
    return false;
  }
}

/** Writes text (one or more lines, no final newline) at a level to stderr: prefixed when that is the journal. */
export function stderrWriter(env: NodeJS.ProcessEnv = process.env): (level: LogLevel, text: string) => void {
  let journal: boolean | undefined; // decided at the first line: fd 2 does not change afterwards
  return (level, text) => {
    journal ??= stderrIsJournal(env);
    process.stderr.write((journal ? withPriority(level, text) : text) + '\n');
  };
}

function formatValue(v: unknown): string {
  const s = Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}
