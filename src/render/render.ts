// What to render for a selection. Pure.
import type { Config } from '../config/load.js';
import type { SelectionState } from '../select/select.js';
import { dns64Context, type RenderedPrefix, type TemplateContext } from '../config/template.js';

export function renderContext(
  config: Pick<Config, 'prefixes' | 'bind'>,
  selection: Pick<SelectionState, 'active' | 'draining' | 'failsafe'>,
): TemplateContext {
  const configured = new Set(config.prefixes.map((p) => p.id));
  const prefixes: RenderedPrefix[] = [
    ...config.prefixes
      .filter((p) => selection.active.includes(p.id) || p.id in selection.draining)
      .map((p) => ({
        prefix: p.id,
        name: p.name,
        group: p.group,
        active: selection.active.includes(p.id),
        draining: !selection.active.includes(p.id),
      })),
    // removed from the config but still draining: after the configured ones, in a stable order
    ...Object.keys(selection.draining)
      .filter((id) => !configured.has(id))
      .sort()
      .map((id) => ({ prefix: id, name: id, group: null, active: false, draining: true })),
  ];
  return {
    prefixes,
    active: prefixes.filter((p) => p.active),
    draining: prefixes.filter((p) => p.draining),
    dns64: dns64Context(config.bind.dns64),
    failsafe: selection.failsafe,
  };
}

export function renderDns64(
  config: Pick<Config, 'prefixes' | 'bind' | 'template'>,
  selection: Pick<SelectionState, 'active' | 'draining' | 'failsafe'>,
): string {
  return config.template.render(renderContext(config, selection));
}

/** Every configured prefix active: the plain static configuration (`render --static`). */
export function staticSelection(
  config: Pick<Config, 'prefixes'>,
): Pick<SelectionState, 'active' | 'draining' | 'failsafe'> {
  return { active: config.prefixes.map((p) => p.id), draining: {}, failsafe: false };
}
