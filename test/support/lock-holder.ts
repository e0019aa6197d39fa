// Another process holding a lock (lib/lock.ts): a node child that takes it, says so and holds it
// until it is killed.
import { spawn, type ChildProcess } from 'node:child_process';

export async function lockHolderProcess(file: string): Promise<ChildProcess> {
  const lockModule = new URL('../../src/lib/lock.ts', import.meta.url).pathname;
  const script =
    `import(${JSON.stringify(lockModule)}).then((m) => ` +
    `{ m.takeLock(${JSON.stringify(file)}); console.log('held'); setInterval(() => {}, 1e6); })`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}
