// Field types shared by the config schema and the targets schema.
import { z } from 'zod';
import { parseDuration } from './duration.js';

export const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = parseDuration(value);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms });
    return z.NEVER;
  }
  return ms;
});

export const argv = z.array(z.string().min(1)).min(1, 'expected a command as a list, e.g. [rndc, reconfig]');

// Names and groups appear in logs, metrics labels and comments in named.conf: keep them plain.
export const label = z.string().regex(/^[A-Za-z0-9][\w.:+-]*$/, 'use letters, digits and . _ : + - only');

/** Why `name` is not a DNS name of plain labels (1..63 octets each, 253 in all), or null if it is. */
export function dnsNameProblem(name: string): string | null {
  const bare = name.endsWith('.') && name.length > 1 ? name.slice(0, -1) : name;
  if (bare.length > 253) return `a DNS name has at most 253 octets (this one ${bare.length})`;
  for (const l of bare.split('.')) {
    if (l.length === 0) return 'a DNS name has no empty labels (two dots in a row, or a leading dot)';
    if (l.length > 63) return `a DNS label has at most 63 octets ("${l.slice(0, 20)}..." has ${l.length})`;
    if (!/^[A-Za-z0-9_-]+$/.test(l)) return `"${l}": use letters, digits, - and _ in DNS labels`;
  }
  return null;
}

export const dnsName = z.string().superRefine((s, ctx) => {
  const problem = dnsNameProblem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
