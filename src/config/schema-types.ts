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
