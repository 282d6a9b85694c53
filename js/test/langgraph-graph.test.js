// A real StateGraph of @langchain/langgraph run end to end on MaifSaver:
// state persists across invocations and across reopening the artifact,
// an interrupted run resumes from the file, the history is listed, a
// thread is deleted by tombstone, and the whole run history verifies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Annotation, END, START, StateGraph } from '@langchain/langgraph';
import { MaifSaver } from '../src/langgraph.js';
import { Key, Reader, verify } from '../src/index.js';
import { tmpdir } from './helpers.js';

const dir = tmpdir('maif-lg-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const State = Annotation.Root({
  messages: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
  turns: Annotation({ reducer: (_a, b) => b, default: () => 0 }),
});

function buildGraph() {
  return new StateGraph(State)
    .addNode('agent', (s) => ({ messages: [`agent saw ${s.messages.length}`], turns: s.turns + 1 }))
    .addNode('tool', (s) => ({ messages: [`tool ran at turn ${s.turns}`] }))
    .addEdge(START, 'agent')
    .addConditionalEdges('agent', (s) => (s.turns % 2 === 1 ? 'tool' : END))
    .addEdge('tool', END);
}

describe('StateGraph on MaifSaver', () => {
  const file = path.join(dir, 'run.maif');
  const key = Key.generate();

  it('runs, persists, reopens, resumes, lists, deletes, and verifies', async () => {
    let saver = new MaifSaver(file, { key, agentId: 'graph-test' });
    let graph = buildGraph().compile({ checkpointer: saver });
    const cfg = { configurable: { thread_id: 'conv-1' } };

    const r1 = await graph.invoke({ messages: ['hello'] }, cfg);
    expect(r1.messages).toEqual(['hello', 'agent saw 1', 'tool ran at turn 1']);
    expect(r1.turns).toBe(1);
    const r2 = await graph.invoke({ messages: ['again'] }, cfg);
    expect(r2.messages).toEqual(['hello', 'agent saw 1', 'tool ran at turn 1', 'again', 'agent saw 4']);
    expect(r2.turns).toBe(2);
    await graph.invoke({ messages: ['other thread'] }, { configurable: { thread_id: 'conv-2' } });

    // Close and reopen: the index is rebuilt from the artifact's blocks.
    saver.close();
    saver = new MaifSaver(file, { key });
    graph = buildGraph().compile({ checkpointer: saver });
    const state = await graph.getState(cfg);
    expect(state.values.messages).toHaveLength(5);
    expect(state.values.turns).toBe(2);
    const r3 = await graph.invoke({ messages: ['third'] }, cfg);
    expect(r3.turns).toBe(3);
    expect(r3.messages.at(-1)).toBe('tool ran at turn 3');

    // The history: newest first, each step a checkpoint with its parent.
    const history = [];
    for await (const s of graph.getStateHistory(cfg)) history.push(s);
    expect(history.length).toBeGreaterThan(6);
    expect(history[0].values.turns).toBe(3);
    expect(history.at(-1).parentConfig).toBeUndefined();
    expect(history[1].config.configurable.checkpoint_id).toBe(history[0].parentConfig.configurable.checkpoint_id);

    // Time travel: replaying from an earlier checkpoint forks the thread.
    const early = history.find((s) => s.values.turns === 1 && s.next.length === 0);
    const forked = await graph.invoke(null, early.config);
    expect(forked.turns).toBe(1);

    // An interrupted run resumes from what the file holds, in a new saver.
    const hil = buildGraph().compile({ checkpointer: saver, interruptBefore: ['tool'] });
    const icfg = { configurable: { thread_id: 'conv-hil' } };
    const partial = await hil.invoke({ messages: ['needs approval'] }, icfg);
    expect(partial.messages).toEqual(['needs approval', 'agent saw 1']);
    expect((await hil.getState(icfg)).next).toEqual(['tool']);
    saver.close();
    saver = new MaifSaver(file, { key });
    const resumed = await buildGraph().compile({ checkpointer: saver, interruptBefore: ['tool'] }).invoke(null, icfg);
    expect(resumed.messages).toEqual(['needs approval', 'agent saw 1', 'tool ran at turn 1']);

    // deleteThread hides the thread; the other threads stay.
    await saver.deleteThread('conv-2');
    expect(await saver.getTuple({ configurable: { thread_id: 'conv-2' } })).toBeUndefined();
    expect(await saver.getTuple(cfg)).toBeDefined();
    saver.close();
    saver = new MaifSaver(file, { key });
    expect(await saver.getTuple({ configurable: { thread_id: 'conv-2' } })).toBeUndefined();
    const threads = new Set();
    for await (const t of saver.list({})) threads.add(t.config.configurable.thread_id);
    expect([...threads].sort()).toEqual(['conv-1', 'conv-hil']);
    saver.close();

    // The tombstone hides; it does not erase: the bytes are still there.
    expect(fs.readFileSync(file).includes(Buffer.from('other thread'))).toBe(true);

    // The whole run history verifies, signed by the saver's key.
    const rep = verify(file, { trustedKeys: [key] });
    expect(rep.errors).toEqual([]);
    expect(rep.ok).toBe(true);
    const r = new Reader(file);
    const types = new Set();
    for (let i = 0; i < r.count; i++) types.add(r.header(i).type);
    expect([...types].sort()).toEqual(['LGCK', 'LGCV', 'LGDL', 'LGWR']);
    expect(r.info().commitCount).toBeGreaterThan(10);
    r.close();

    // And with the CLI, when the build tree has it.
    const cli = path.resolve(import.meta.dirname, '..', '..', 'build', 'release', 'maif');
    if (fs.existsSync(cli)) {
      const pub = path.join(dir, 'signer.key');
      key.save(pub);
      const out = execFileSync(cli, ['verify', '--pubkey', pub + '.pub', file], { encoding: 'utf8' });
      expect(out).toMatch(/: OK \(\d+ blocks, format native\)/);
    }

    // A flipped byte in a stored checkpoint is caught.
    const bytes = fs.readFileSync(file);
    const at = bytes.indexOf(Buffer.from('needs approval'));
    bytes[at] ^= 0x20;
    const bad = path.join(dir, 'tampered.maif');
    fs.writeFileSync(bad, bytes);
    expect(verify(bad).ok).toBe(false);
  });
});

describe('MaifSaver with encryption', () => {
  it('seals every payload, still verifies without the key, and reads back with it', async () => {
    const { Keyring } = await import('../src/index.js');
    const file = path.join(dir, 'sealed.maif');
    const key = Key.generate();
    let saver = new MaifSaver(file, { key, encrypt: true });
    const graph = buildGraph().compile({ checkpointer: saver });
    const cfg = { configurable: { thread_id: 'secret' } };
    await graph.invoke({ messages: ['the launch code is 0000'] }, cfg);
    saver.close();
    // Sealed: the text is nowhere in the file, and the run verifies without any key.
    expect(fs.readFileSync(file).includes(Buffer.from('launch code'))).toBe(false);
    expect(verify(file, { trustedKeys: [key] }).ok).toBe(true);
    const r = new Reader(file);
    expect(r.header(0).type).toBe('KEYW');
    const lg = [];
    for (let i = 1; i < r.count; i++) lg.push(r.header(i));
    expect(lg.every((h) => h.cipher !== 0)).toBe(true);
    expect(() => r.read(1)).toThrow(/key|access/i);
    r.close();
    // Reopened with the key: the state is there, and new steps are sealed too.
    saver = new MaifSaver(file, { key, encrypt: true });
    const g2 = buildGraph().compile({ checkpointer: saver });
    expect((await g2.getState(cfg)).values.messages[0]).toBe('the launch code is 0000');
    await g2.invoke({ messages: ['more'] }, cfg);
    saver.close();
    // A saver with another key cannot read the payloads, but still lists the index.
    const other = Key.generate();
    const stranger = new MaifSaver(file, { key: other, keyring: new Keyring({ identities: [other] }) });
    await expect(stranger.getTuple(cfg)).rejects.toThrow();
    stranger.close();
    expect(verify(file).ok).toBe(true);
  });
});

describe('MaifSaver over foreign blocks', () => {
  it('skips blocks that do not follow the layout, and keeps working', async () => {
    const { Writer } = await import('../src/index.js');
    const file = path.join(dir, 'foreign.maif');
    const key = Key.generate();
    const w = Writer.create(file, { key });
    w.add('LGCK', 'not a checkpoint', { thread_id: 't', checkpoint_ns: 5 });
    w.add('LGWR', 'x', { thread_id: 't', checkpoint_ns: '', checkpoint_id: 'c', channel: 'a', serde: 'json', task_id: 'k', idx: 'zero' });
    w.add('LGCV', 'x', { thread_id: 't' });
    w.addText('an ordinary note', { thread_id: 't' });
    w.commit();
    w.close();
    const saver = new MaifSaver(file, { key });
    expect(await saver.getTuple({ configurable: { thread_id: 't' } })).toBeUndefined();
    // Metadata with a NUL in a string and a fraction round-trips through the block metadata.
    const { emptyCheckpoint } = await import('@langchain/langgraph-checkpoint');
    const odd = { source: 'update', step: -1, parents: {}, note: 'a\u0000b', ratio: 0.1 };
    const c = await saver.put({ configurable: { thread_id: 'odd' } }, emptyCheckpoint(), odd, {});
    expect((await saver.getTuple(c)).metadata).toEqual(odd);
    const graph = buildGraph().compile({ checkpointer: saver });
    const out = await graph.invoke({ messages: ['hi'] }, { configurable: { thread_id: 't' } });
    expect(out.turns).toBe(1);
    saver.close();
    expect(verify(file).ok).toBe(true);
  });
});
