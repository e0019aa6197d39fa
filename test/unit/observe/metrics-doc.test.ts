// The metrics are an interface (dashboards, alerts): the documented list and METRICS, where they are
// declared, name the same metrics with the same types and labels.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../../src/observe/metrics.js';

/** the document whose table lists the metrics */
const METRICS_DOC = 'docs/observability.md';

/** The table rows "| `nat64_health_x` | type | `label`, `label` | ... |" of the document. */
function documented(): Record<string, { type: string; labels: string[] }> {
  const text = readFileSync(fileURLToPath(new URL(`../../../${METRICS_DOC}`, import.meta.url)), 'utf8');
  const rows = [...text.matchAll(/^\| `nat64_health_(\w+)` \| (\w+) \|([^|]*)\|/gm)];
  return Object.fromEntries(
    rows.map((r) => [r[1]!, { type: r[2]!, labels: [...r[3]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!) }]),
  );
}

describe(`the metrics list of ${METRICS_DOC}`, () => {
  it('names every metric of METRICS with its type and labels, and no other', () => {
    const declared = Object.fromEntries(
      Object.entries(METRICS).map(([name, m]) => [name, { type: m.type, labels: [...m.labels] }]),
    );
    expect(documented()).toEqual(declared);
  });
});
