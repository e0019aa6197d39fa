/** One problem in an input file, located as precisely as we can: file, line, column and field. */
export interface Problem {
  file: string;
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.line !== undefined ? p.column : undefined].filter((x) => x !== undefined).join(':');
  return `${where}: ${p.field ? `${p.field}: ` : ''}${p.message}`;
}

/** Bad operator input (config, prefixes file, template). Reported without a stack trace. */
export class ConfigError extends Error {
  constructor(readonly problems: Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}
