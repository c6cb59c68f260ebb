// Runs the built CLI (bin/exectrace over dist/) from the repository root, so file names in
// its messages are the relative ones the tests give.

import * as path from 'node:path';
import {spawn} from 'node:child_process';

export const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'exectrace');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** `env` is added to the test's own environment (TZ, for one). */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], {cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, ...env}});
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (status) => resolve({status, stdout, stderr}));
  });
}

export const lines = (s: string): string[] => s.split('\n').filter((l) => l !== '');
