// The alert rules that ship with the package (monitoring/nat64-health.rules.yml), checked by
// Prometheus' own tools: `promtool check rules` with every lint, and `promtool test rules` on one
// test file per alert (alerts/ALERTNAME.yml), each with series that fire it and series that must
// not. Which metrics and labels the rules use is held against a live daemon by
// test/integration/observe/monitoring.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { promtoolMissing } from '../../support/prometheus.js';
import { itWith } from '../../support/real-parts.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RULES = path.join(ROOT, 'monitoring/nat64-health.rules.yml');
const TESTS = fileURLToPath(new URL('alerts/', import.meta.url));

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  tests: Array<{
    alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }>;
  }>;
}

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> }).groups.flatMap(
  (g) => g.rules,
);
const testFiles = readdirSync(TESTS).filter((f) => f.endsWith('.yml'));
const withPromtool = itWith(promtoolMissing());

async function promtool(...args: string[]) {
  const r = await execa('promtool', args, { cwd: TESTS, reject: false, all: true });
  return { exitCode: r.exitCode, said: r.all };
}

describe('alert rules (monitoring/nat64-health.rules.yml)', () => {
  withPromtool('promtool check rules: valid, and no lint finding', async () => {
    const r = await promtool('check', 'rules', '--lint=all', '--lint-fatal', RULES);
    expect(r.exitCode, r.said).toBe(0);
    expect(r.said).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  for (const file of testFiles)
    withPromtool(`promtool test rules ${file}`, async () => {
      const r = await promtool('test', 'rules', file);
      expect(r.exitCode, r.said).toBe(0);
    });

  it('each alert has its test file, with a case that fires it and one where it must stay quiet', () => {
    expect(testFiles.map((f) => f.replace(/\.yml$/, '')).sort()).toEqual(rules.map((r) => r.alert).sort());
    for (const file of testFiles) {
      const alert = file.replace(/\.yml$/, '');
      const cases = (parse(readFileSync(path.join(TESTS, file), 'utf8')) as RuleTest).tests.flatMap(
        (t) => t.alert_rule_test ?? [],
      );
      expect(
        cases.every((c) => c.alertname === alert),
        `${file} tests only ${alert}`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${file}: a case that fires`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${file}: a case that stays quiet`,
      ).toBe(true);
    }
  });

  it('docs/observability.md explains every alert, and no other', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/observability.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(NAT64Health\w+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
    expect(documented.sort()).toEqual(rules.map((r) => [r.alert, r.labels?.severity]).sort());
  });

  it('each alert has a severity, a summary and a description that says what to do', () => {
    for (const r of rules) {
      expect(['critical', 'warning'], r.alert).toContain(r.labels?.severity);
      expect(r.annotations?.summary, r.alert).toBeTruthy();
      expect(r.annotations?.description?.length ?? 0, r.alert).toBeGreaterThan(150);
      expect(r.alert, 'one name scheme').toMatch(/^NAT64Health[A-Z]\w+$/);
    }
  });
});
