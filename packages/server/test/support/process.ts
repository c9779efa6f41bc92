// `trailseal` as a child process: the built command (packages/server/dist),
// as an operator runs it. `npm test` builds first (tsc -b).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/**
 * Whether the built command exists. `npm test` builds first; a bare vitest
 * run without a build skips the process suites with a notice, and under CI
 * a missing build fails instead of skipping.
 */
export function cliBuilt(): boolean {
  if (existsSync(CLI)) return true;
  if (process.env['CI'] !== undefined && process.env['CI'] !== '') throw new Error(`${CLI} is missing: the process tests must run in CI (npm test builds first)`);
  console.warn(`\n*** SKIPPING the trailseal process tests: ${CLI} is not built (run npx tsc -b, or npm test). ***\n`);
  return false;
}

/**
 * Runs the command to completion, asynchronously: a service running in the
 * test's own process must keep answering while the command talks to it.
 */
export function runCli(args: string[], env: Record<string, string> = {}, input = ''): Promise<{ status: number; stdout: string; stderr: string }> {
  return runNode(CLI, args, env, input);
}

/** Runs a built Node.js command (a script path) to completion, asynchronously. */
export function runNode(script: string, args: string[], env: Record<string, string> = {}, input = ''): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (status) => {
      clearTimeout(timer);
      resolve({ status: status ?? -1, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
}

/** Starts `trailseal serve` and resolves once it listens (the URL is read from its start-up message). */
export async function startServer(args: string[], env: Record<string, string> = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'silent', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 20 s: ${err}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening at (http:\/\/\S+)/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening: ${err}`));
    });
  });
  return {
    child,
    url,
    stderr: () => err,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}
