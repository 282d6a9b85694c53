// The TypeScript declarations (src/*.d.ts) compile against a TypeScript
// user's code (test/types/usage.ts) with the package's own dependencies.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';

it('type-checks a TypeScript program using the package', () => {
  const root = path.join(import.meta.dirname, '..');
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  let out = '';
  try {
    out = execFileSync(process.execPath, [tsc, '-p', path.join(root, 'test', 'types')], { encoding: 'utf8', cwd: root });
  } catch (e) {
    out = `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e);
  }
  expect(out).toBe('');
});
