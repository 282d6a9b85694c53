// The official checkpointer conformance suite of
// @langchain/langgraph-checkpoint-validation 1.1.1, run against MaifSaver
// (its CLI is broken in 1.1.1, so validate() is called from vitest).
import fs from 'node:fs';
import path from 'node:path';
import { validate } from '@langchain/langgraph-checkpoint-validation';
import { MaifSaver } from '../src/langgraph.js';
import { verify } from '../src/index.js';
import { tmpdir } from './helpers.js';

const dir = tmpdir('maif-lgv-');
let n = 0;

validate({
  checkpointerName: 'MaifSaver',
  createCheckpointer() {
    return new MaifSaver(path.join(dir, `cp-${process.pid}-${n++}.maif`));
  },
  destroyCheckpointer(saver) {
    saver.close();
    // Everything the suite wrote must verify before the file is removed.
    const rep = verify(saver.path);
    if (!rep.ok) throw new Error(`${saver.path} does not verify: ${rep.errors.join('; ')}`);
    fs.rmSync(saver.path, { force: true });
  },
  afterAll() {
    fs.rmSync(dir, { recursive: true, force: true });
  },
});
