// bench_saver.js: what a signed, verifiable checkpoint costs. Runs the same
// workload on MaifSaver and on LangGraph's own MemorySaver (the baseline,
// in the same run): N checkpoints of one thread, each with a changed
// channel value and two pending writes, then getTuple of the latest and of
// every checkpoint, then (MaifSaver only) reopening the file (rebuilding the
// index from block headers) and maif verify of the whole run.
// Usage: node bench/bench_saver.js [N]   (default 2000)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemorySaver, emptyCheckpoint, uuid6 } from '@langchain/langgraph-checkpoint';
import { MaifSaver } from '../src/langgraph.js';
import { Key, verify } from '../src/index.js';

let N = Number(process.argv[2] ?? 2000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maif-bench-'));
const key = Key.generate();

async function workload(saver) {
  const thread = { configurable: { thread_id: 't', checkpoint_ns: '' } };
  let cfg = thread;
  const ids = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const cp = emptyCheckpoint();
    cp.id = uuid6(i);
    cp.channel_values = { messages: [`message ${i}`, 'x'.repeat(200)], step: i };
    cp.channel_versions = { messages: i + 1, step: i + 1 };
    cfg = await saver.put(cfg, cp, { source: 'loop', step: i, parents: {} }, { messages: i + 1, step: i + 1 });
    await saver.putWrites(cfg, [['messages', `reply ${i}`], ['step', i + 1]], `task-${i}`);
    ids.push(cfg.configurable.checkpoint_id);
  }
  const t1 = performance.now();
  for (const id of ids) await saver.getTuple({ configurable: { thread_id: 't', checkpoint_ns: '', checkpoint_id: id } });
  const t2 = performance.now();
  return { put: t1 - t0, get: t2 - t1 };
}

const fmt = (ms) => `${(ms / N * 1000).toFixed(1)} us/op`;
// Warm up the JIT on both savers (same code paths, a tenth of the work).
{
  const n = N;
  N = Math.max(1, Math.floor(n / 10));
  await workload(new MemorySaver());
  const w = new MaifSaver(path.join(dir, 'warm.maif'), { key });
  await workload(w);
  w.close();
  N = n;
}
const mem = await workload(new MemorySaver());
const file = path.join(dir, 'bench.maif');
const ms = new MaifSaver(file, { key });
const mx = await workload(ms);
ms.close();
const t3 = performance.now();
new MaifSaver(file, { key }).close();
const t4 = performance.now();
const rep = verify(file);
const t5 = performance.now();
const size = fs.statSync(file).size;
console.log(`checkpoints: ${N} (each: put with 2 changed channels + putWrites of 2 writes)`);
console.log(`put+putWrites  MaifSaver ${fmt(mx.put)}   MemorySaver ${fmt(mem.put)}`);
console.log(`getTuple       MaifSaver ${fmt(mx.get)}   MemorySaver ${fmt(mem.get)}`);
console.log(`reopen (index rebuilt from ${N * 5} block headers): ${(t4 - t3).toFixed(1)} ms`);
console.log(`maif verify of the run: ${(t5 - t4).toFixed(1)} ms, ok=${rep.ok}, ${size} bytes`);
fs.rmSync(dir, { recursive: true, force: true });
