// Reads the YAML config (and the prefixes file it names), validates it and resolves it into a Config.
// Every problem names the file, line and field; nothing half-valid comes out of here.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { isMap, isPair, isScalar, LineCounter, parseDocument, visit, type Document } from 'yaml';
import type * as z from 'zod';
import { ConfigError, type Problem } from './errors.js';
import { configSchema, DEFAULT_POOL, MAX_PREFIXES, type ProbeSpec, type RawConfig } from './schema.js';
import { parsePrefixesFile } from './prefixes-file.js';
import type { Nat64Prefix } from '../lib/prefix.js';
import { DEFAULT_CONFIG_YAML } from './default.js';
import { resolveTargets, type TargetConfig } from './targets.js';
import { DEFAULT_OUTPUT, resolveVerify, type DiscoverySettings, type VerifySettings } from './schema-types.js';
import { checkconfArgv, parseCheckconf } from './checkconf-args.js';
import { loadTemplate, resolveTemplatePath, type Dns64Template } from './template.js';

export interface PrefixConfig {
  prefix: Nat64Prefix;
  /** canonical prefix text: the key of everything per prefix */
  id: string;
  name: string;
  group: string | null;
  /** position of the group in select.groups; ungrouped prefixes (or no groups) rank after them */
  groupRank: number;
  /** position in the merged list: the stable render order */
  order: number;
  origin: string;
  /** where it was discovered (RFC 7050), e.g. "[2001:db8::53]:53"; absent for a prefix only configured */
  discovered?: string;
}

/** A `prefixes:` entry with `discover:` (RFC 7050): what its prefixes are asked of and named. */
export interface DiscoverSource {
  /** "[server]:port": the key of its state and what status shows */
  id: string;
  server: string;
  port: number;
  timeout: number;
  settings: DiscoverySettings;
  name: string;
  group: string | null;
  groupRank: number;
  /** file:line of the entry */
  origin: string;
}

export type ProbeConfig = ProbeSpec & { id: string };

/** A client pool (`pools:`), its settings resolved: what it selects with. */
export interface PoolConfig {
  name: string;
  /** BIND ACL elements: who is in it (unless an earlier pool admits them) */
  clients: string[];
  /** its group order: its own, or select.groups */
  groups: string[];
  min_active: number;
  max_active: number;
  /** file:line of the entry */
  origin: string;
}

export interface Config extends Omit<RawConfig, 'prefixes' | 'probes' | 'bind' | 'targets' | 'pools'> {
  /** the file this came from, or "(embedded default)" */
  source: string;
  /** the configured prefixes; the daemon adds the discovered ones (src/discover/prefixes.ts) */
  prefixes: PrefixConfig[];
  /** discovery sources (RFC 7050), in config order */
  discover: DiscoverSource[];
  probes: ProbeConfig[];
  /** client pools in config order; empty: every client selects by `select` */
  pools: PoolConfig[];
  bind: Omit<RawConfig['bind'], 'output' | 'verify'> & {
    output: string;
    named_conf: string;
    template_path: string;
    /** null: verification is off */
    verify: VerifySettings | null;
  };
  template: Dns64Template;
  /** the BIND servers that serve the rendered text (default: the local one) */
  targets: TargetConfig[];
  /** files whose change means "reload the config" */
  watched: string[];
  warnings: string[];
}

export const EMBEDDED_SOURCE = '(embedded default)';
/** Far more than any real config or prefixes file; larger ones are refused before they are parsed. */
export const MAX_FILE_BYTES = 256 * 1024;

function readLimited(file: string): string {
  if (statSync(file).size > MAX_FILE_BYTES) throw new Error(`larger than ${MAX_FILE_BYTES} bytes`);
  return readFileSync(file, 'utf8');
}

/** Loads a config file; `null` means the embedded default. Throws ConfigError on any problem. */
export function loadConfig(file: string | null): Config {
  if (file === null) return parseConfig(DEFAULT_CONFIG_YAML, EMBEDDED_SOURCE, process.cwd());
  let text: string;
  try {
    text = readLimited(file);
  } catch (err) {
    throw new ConfigError([{ file, message: `cannot read config: ${(err as Error).message}` }]);
  }
  return parseConfig(text, file, path.dirname(path.resolve(file)));
}

export function parseConfig(text: string, file: string, baseDir: string): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => ({
        file,
        line: e.linePos?.[0].line,
        column: e.linePos?.[0].col,
        message: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
      })),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS() ?? {};
  } catch (err) {
    // yaml refuses aliases that expand too far (a "billion laughs" document): point at the first one
    let at: { line?: number; column?: number } = {};
    visit(doc, {
      Alias(_, node) {
        if (node.range) {
          const { line, col } = lineCounter.linePos(node.range[0]);
          at = { line, column: col };
        }
        return visit.BREAK;
      },
    });
    throw new ConfigError([{ file, ...at, message: `YAML: ${(err as Error).message}` }]);
  }
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => locateIssue(issue, doc, lineCounter, file)));
  }
  return resolve(parsed.data, file, baseDir, doc, lineCounter);
}

function resolve(raw: RawConfig, file: string, baseDir: string, doc: Document, lc: LineCounter): Config {
  const warnings: string[] = [];
  const rank = (group: string | null) => {
    const i = group === null ? -1 : raw.select.groups.indexOf(group);
    return i < 0 ? raw.select.groups.length : i;
  };
  const prefixes: PrefixConfig[] = [];
  const seen = new Map<string, string>();
  const add = (prefix: Nat64Prefix, name: string | undefined, group: string | undefined, origin: string) => {
    const before = seen.get(prefix.text);
    if (before !== undefined) {
      // BIND accepts a duplicate in named-checkconf but then fails rndc reconfig ("already exists").
      warnings.push(`${origin}: prefix ${prefix.text} is already listed at ${before}; using it once`);
      return;
    }
    seen.set(prefix.text, origin);
    prefixes.push({
      prefix,
      id: prefix.text,
      name: name ?? prefix.text,
      group: group ?? null,
      groupRank: rank(group ?? null),
      order: prefixes.length,
      origin,
    });
  };
  const discover: DiscoverSource[] = [];
  raw.prefixes.forEach((p, i) => {
    const origin = `${file}:${lineOf(doc, lc, ['prefixes', i]) ?? '?'}`;
    if (!('discover' in p)) return add(p.prefix, p.name, p.group, origin);
    const { server, port, timeout, min_refresh, max_refresh, keep } = p.discover;
    const address = ipaddr.parse(server).toString();
    discover.push({
      id: `${address.includes(':') ? `[${address}]` : address}:${port}`,
      server: address,
      port,
      timeout,
      settings: { min_refresh, max_refresh, keep },
      name: p.name,
      group: p.group ?? null,
      groupRank: rank(p.group ?? null),
      origin,
    });
  });

  const watched = file === EMBEDDED_SOURCE ? [] : [path.resolve(file)];
  if (raw.prefixes_file !== undefined) {
    const prefixesFile = path.resolve(baseDir, raw.prefixes_file);
    let text: string;
    try {
      text = readLimited(prefixesFile);
    } catch (err) {
      throw new ConfigError([
        {
          file,
          ...posOf(doc, lc, ['prefixes_file']),
          field: 'prefixes_file',
          message: `cannot read ${prefixesFile}: ${(err as Error).message}`,
        },
      ]);
    }
    const fromFile = parsePrefixesFile(text, prefixesFile);
    if (fromFile.problems.length > 0) throw new ConfigError(fromFile.problems);
    for (const p of fromFile.prefixes) {
      add(p.prefix, undefined, undefined, `${prefixesFile}:${p.line}`);
      if (prefixes.length > MAX_PREFIXES) {
        throw new ConfigError([
          {
            file: prefixesFile,
            line: p.line,
            column: 1,
            field: 'prefixes_file',
            message: `at most ${MAX_PREFIXES} prefixes can be probed (${prefixes.length} with this file)`,
          },
        ]);
      }
    }
    watched.push(prefixesFile);
  }
  if (prefixes.length === 0 && discover.length === 0) {
    throw new ConfigError([
      {
        file,
        field: 'prefixes',
        message: 'no NAT64 prefix is configured (prefixes, a discover source or prefixes_file)',
      },
    ]);
  }

  const probes = raw.probes.map((p) => ({ ...p, id: probeId(p) }));
  // The same target twice would count twice toward the quorum.
  const dupProbes = probes.flatMap((p, i) => {
    const first = probes.findIndex((q) => q.id === p.id);
    return first === i
      ? []
      : [
          {
            file,
            ...posOf(doc, lc, ['probes', i]),
            field: `probes[${i}]`,
            message: `probe ${p.id} is already listed as probes[${first}]`,
          },
        ];
  });
  if (dupProbes.length > 0) throw new ConfigError(dupProbes);

  const output = raw.bind.output ?? DEFAULT_OUTPUT[raw.bind.mode];
  // Paths in checkconf are the config file's, like every other path in it: relative to its folder.
  const cc = parseCheckconf(raw.bind.checkconf);
  const chroot = cc.chroot === null ? null : path.resolve(baseDir, cc.chroot);
  const checkconf =
    cc.given === null && chroot === cc.chroot
      ? raw.bind.checkconf
      : checkconfArgv({ ...cc, chroot }, chroot === null ? path.resolve(baseDir, cc.namedConf) : cc.namedConf);
  const templatePath = resolveTemplatePath(raw.bind.template, baseDir);
  let template: Dns64Template;
  try {
    template = loadTemplate(templatePath, raw.bind.dns64, { pools: raw.pools.length > 0 });
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new ConfigError([
        ...err.problems,
        {
          file,
          ...posOf(doc, lc, ['bind', 'template']),
          field: 'bind.template',
          message: `template ${templatePath} is unusable (see above)`,
        },
      ]);
    }
    throw err;
  }
  if (templatePath !== resolveTemplatePath('dns64.conf.hbs', baseDir)) watched.push(templatePath);
  const poolNames = raw.pools.map((p) => p.name);
  const verifyProblems = [
    ...unknownVerifyPools(raw, poolNames, file, doc, lc),
    ...verifySourceFamilies(raw, file, doc, lc),
  ];
  if (verifyProblems.length > 0) throw new ConfigError(verifyProblems);

  return {
    ...raw,
    source: file,
    prefixes,
    discover,
    probes,
    pools: raw.pools.map((p, i) => ({
      name: p.name,
      clients: p.clients,
      groups: p.groups ?? raw.select.groups,
      min_active: p.min_active ?? raw.select.min_active,
      max_active: p.max_active ?? raw.select.max_active,
      origin: `${file}:${lineOf(doc, lc, ['pools', i]) ?? '?'}`,
    })),
    bind: {
      ...raw.bind,
      output: path.resolve(baseDir, output),
      checkconf,
      named_conf: parseCheckconf(checkconf).namedConf,
      template_path: templatePath,
      verify: resolveVerify(raw.bind.verify, '::1', poolNames),
    },
    state_file: path.resolve(baseDir, raw.state_file),
    targets: resolveTargets(raw.targets, baseDir, poolNames),
    template,
    watched,
    warnings,
  };
}

/** The `verify` settings of the top-level bind and each target, with where they are and whom they ask. */
function verifySettings(raw: RawConfig) {
  const unbracket = (h: string) => h.replace(/^\[(.*)\]$/, '$1');
  return [
    { at: ['bind', 'verify'] as (string | number)[], verify: raw.bind.verify, server: '::1' },
    ...(raw.targets ?? []).map((t, i) => ({
      at: ['targets', i, 'bind', 'verify'] as (string | number)[],
      verify: t.bind?.verify,
      server: t.ssh ? unbracket(t.ssh.host) : '::1',
    })),
  ];
}

/**
 * A query cannot come from an address of the other family than the server it goes to: `source` and
 * each `verify.pools` address must be of the server's (checked where the server is an address).
 */
const FAMILY = { ipv4: 'IPv4', ipv6: 'IPv6' } as const;

function verifySourceFamilies(raw: RawConfig, file: string, doc: Document, lc: LineCounter): Problem[] {
  return verifySettings(raw).flatMap(({ at, verify, server: defaultServer }) => {
    if (!verify) return [];
    const server = verify.server ?? defaultServer;
    if (!ipaddr.isValid(server)) return [];
    const family = ipaddr.parse(server).kind();
    const sources: Array<[(string | number)[], string]> = [
      ...(verify.source ? [[[...at, 'source'], verify.source] as [(string | number)[], string]] : []),
      ...Object.entries(verify.pools ?? {}).map(
        ([name, addr]) => [[...at, 'pools', name], addr] as [(string | number)[], string],
      ),
    ];
    return sources
      .filter(([, addr]) => ipaddr.parse(addr).kind() !== family)
      .map(([where, addr]) => ({
        file,
        ...posOf(doc, lc, where),
        field: fieldName(where),
        message: `${addr} cannot ask ${server}: the source must be an ${FAMILY[family]} address like the server`,
      }));
  });
}

/** `verify.pools` (the top-level bind's and each target's) names configured pools only. */
function unknownVerifyPools(
  raw: RawConfig,
  poolNames: readonly string[],
  file: string,
  doc: Document,
  lc: LineCounter,
): Problem[] {
  const configured = new Set(poolNames);
  const configuredText = poolNames.length ? `pools: ${poolNames.join(', ')}` : 'the config has no pools:';
  return verifySettings(raw).flatMap(({ at, verify }) =>
    Object.keys(verify ? (verify.pools ?? {}) : {})
      .filter((name) => !configured.has(name))
      .map((name) => ({
        file,
        ...keyPosOf(doc, lc, [...at, 'pools'], name),
        field: fieldName([...at, 'pools', name]),
        message:
          name === DEFAULT_POOL
            ? 'the default pool is asked from verify.source (an address in no pool); list only the pools of pools: here'
            : `"${name}" is not a configured pool (${configuredText})`,
      })),
  );
}

export function probeId(p: ProbeSpec): string {
  switch (p.type) {
    case 'tcp':
      return `tcp ${p.address}:${p.port}`;
    case 'http':
      return `http ${p.address}:${p.port}${p.path}${p.host === undefined ? '' : ` host ${p.host}`}`;
    case 'dns':
      return `dns ${p.address}:${p.port} ${p.name}/${p.record}`;
    case 'icmp':
      return `icmp ${p.address}`;
  }
}

function lineOf(doc: Document, lc: LineCounter, p: (string | number)[]): number | undefined {
  return posOf(doc, lc, p).line;
}

function posOf(doc: Document, lc: LineCounter, p: (string | number)[]): { line?: number; column?: number } {
  const node = doc.getIn(p, true) as { range?: [number, number, number] } | undefined;
  if (!node?.range) return {};
  const { line, col } = lc.linePos(node.range[0]);
  return { line, column: col };
}

/** A path into the config as problems name it: `targets[0].bind.verify` */
function fieldName(p: readonly (string | number)[]): string {
  return p.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** Where a key of a map is (not its value): a problem about the key points at it. */
function keyPosOf(
  doc: Document,
  lc: LineCounter,
  mapPath: (string | number)[],
  key: string,
): { line?: number; column?: number } {
  const map = doc.getIn(mapPath, true);
  const pair = isMap(map) ? map.items.find((it) => isScalar(it.key) && String(it.key.value) === key) : undefined;
  const offset = (pair?.key as { range?: [number] } | undefined)?.range?.[0];
  if (offset === undefined) return posOf(doc, lc, mapPath);
  const { line, col } = lc.linePos(offset);
  return { line, column: col };
}

/** Maps a schema issue to the YAML node it is about (the nearest existing parent for a missing key). */
function locateIssue(issue: z.core.$ZodIssue, doc: Document, lc: LineCounter, file: string): Problem {
  const issuePath = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
  let field = fieldName(issuePath);
  let message = issue.message;
  let offset: number | undefined;
  if (issue.code === 'unrecognized_keys') {
    const parent = issuePath.length ? doc.getIn(issuePath, true) : doc.contents;
    const key = issue.keys[0]!;
    if (isMap(parent)) {
      const pair = parent.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === key);
      offset = (pair?.key as { range?: [number] } | undefined)?.range?.[0];
    }
    field = field ? `${field}.${key}` : key;
    message = `unknown key${issue.keys.length > 1 ? `s ${issue.keys.join(', ')}` : ''} (check the spelling)`;
  }
  for (let n = issuePath.length; offset === undefined && n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(issuePath.slice(0, n), true);
    offset = (node as { range?: [number] } | null | undefined)?.range?.[0];
    if (n < issuePath.length && offset !== undefined && issue.code === 'invalid_type' && issue.input === undefined) {
      message = `missing: ${message}`;
    }
  }
  const pos = offset !== undefined ? lc.linePos(offset) : undefined;
  return { file, line: pos?.line, column: pos?.col, field: field || undefined, message };
}
