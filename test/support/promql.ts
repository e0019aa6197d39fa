// What a PromQL expression uses: its series selectors (metric name and label matchers) and the
// label names of its by/without/on/ignoring/group_left/group_right clauses. Parsed with
// Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of Prometheus' web UI), so the
// checks of the shipped alert rules and dashboard see what Prometheus sees.
import { parser } from '@prometheus-io/lezer-promql';

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  /** the selector as written, e.g. `nat64_health_prefix_state{state="down"}` */
  text: string;
  metric: string;
  matchers: Matcher[];
}

export interface PromqlUses {
  selectors: Selector[];
  /** label names of grouping and vector matching clauses */
  labels: string[];
  /** parse errors, with the text around them; empty when the expression parses */
  errors: string[];
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith('`') ? body : body.replace(/\\(.)/g, '$1');
}

export function promqlUses(expr: string): PromqlUses {
  const selectors: Selector[] = [];
  const labels = new Set<string>();
  const errors: string[] = [];
  const text = (n: { from: number; to: number }) => expr.slice(n.from, n.to);
  parser.parse(expr).iterate({
    enter(node) {
      if (node.type.isError) {
        errors.push(`at ${node.from}: ...${expr.slice(Math.max(0, node.from - 20), node.from + 20)}...`);
        return;
      }
      if (node.name === 'GroupingLabels') {
        for (let c = node.node.firstChild; c; c = c.nextSibling) if (c.name === 'LabelName') labels.add(text(c));
        return false;
      }
      if (node.name !== 'VectorSelector') return;
      const matchers: Matcher[] = [];
      let metric = '';
      const n = node.node;
      const id = n.getChild('Identifier');
      if (id) metric = text(id);
      const list = n.getChild('LabelMatchers');
      for (let m = list?.firstChild ?? null; m; m = m.nextSibling) {
        if (m.name !== 'UnquotedLabelMatcher') continue;
        const label = m.getChild('LabelName');
        const op = m.getChild('MatchOp');
        const value = m.getChild('StringLiteral');
        if (!label || !op || !value) continue;
        const matcher: Matcher = { label: text(label), op: text(op) as Matcher['op'], value: unquote(text(value)) };
        if (matcher.label === '__name__' && matcher.op === '=') metric = matcher.value;
        else matchers.push(matcher);
      }
      selectors.push({ text: text(n), metric, matchers });
      return false;
    },
  });
  return { selectors, labels: [...labels], errors };
}

/** Values for Grafana's interval macros that a plain Prometheus query accepts. */
const GRAFANA_MACROS: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '1h',
};

/**
 * A dashboard query as Prometheus gets it: Grafana's macros and template variables replaced
 * (`$var`, `${var}`, `${var:fmt}`, `[[var]]`), each variable by `vars[name]`.
 */
export function fromGrafana(expr: string, vars: Record<string, string>): string {
  const value = (name: string) => {
    const v = GRAFANA_MACROS[name] ?? vars[name];
    if (v === undefined) throw new Error(`no value for the Grafana variable $${name} in: ${expr}`);
    return v;
  };
  return expr
    .replace(/\$\{(\w+)(?::\w+)?\}/g, (_, name: string) => value(name))
    .replace(/\[\[(\w+)\]\]/g, (_, name: string) => value(name))
    .replace(/\$(\w+)/g, (_, name: string) => value(name));
}
