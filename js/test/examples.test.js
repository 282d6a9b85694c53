// The examples of js/README.md run as written (importing the package by its name).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tmpdir } from './helpers.js';

const dir = tmpdir('maif-ex-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const run = (name, file) => execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'examples', name), file], { encoding: 'utf8' });

it('runs the LangGraph example, whose run history verifies', () => {
  expect(run('langgraph.js', path.join(dir, 'run.maif'))).toMatch(/\[ 'hi', 'seen 1' \] true/);
});

it('runs the vector-store example', () => {
  expect(run('vectorstore.js', path.join(dir, 'docs.maif'))).toMatch(/^a cat \{ n: 1 \} 1\.000/);
});
