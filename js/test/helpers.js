import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory, removed by the returned cleanup. */
export function tmpdir(prefix = 'maif-js-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
