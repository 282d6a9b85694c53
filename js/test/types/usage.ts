// Compiled (not run) by test/types.test.js with tsc --noEmit: the
// declarations describe the package as a TypeScript user meets it.
import { Annotation, StateGraph, START, END } from '@langchain/langgraph';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { Key, Keyring, Keystore, Writer, Reader, verify, verifyChains, verifyIdentities, timestampQuery, MaifError, type Report } from 'maif';
import { MaifSaver } from 'maif/langgraph';
import { MaifVectorStore } from 'maif/langchain';

export async function main(): Promise<boolean> {
  const key: Key = Key.generate();
  const w = Writer.create('a.maif', { key, agentId: 'ts' });
  const id: string = w.addText('hi', { source: 'ts' });
  w.addEmbedding([[1, 2, 3]], { model: 'm', source_block: id });
  w.encrypt(new Keyring({ recipients: [key] }));
  w.commit();
  w.close();
  const r = new Reader('a.maif');
  const text: string | undefined = r.block(0).text;
  const rows: Float32Array[] | undefined = r.block(1).vectors;
  r.close();
  try {
    new Reader('missing.maif');
  } catch (e) {
    if (e instanceof MaifError) console.log(e.code, e.codeName, text, rows);
  }

  const State = Annotation.Root({ messages: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
  const saver = new MaifSaver('run.maif', { key, encrypt: true });
  const graph = new StateGraph(State)
    .addNode('agent', (s) => ({ messages: [`seen ${s.messages.length}`] }))
    .addEdge(START, 'agent').addEdge('agent', END)
    .compile({ checkpointer: saver });
  await graph.invoke({ messages: ['hi'] }, { configurable: { thread_id: 't' } });
  saver.close();

  const store = await MaifVectorStore.fromTexts(['a'], [{}], new SyntheticEmbeddings({ vectorSize: 4 }), { path: 'd.maif', key });
  const hits: [unknown, number][] = await store.similaritySearchWithScore('a', 1, { topic: 'x' });
  store.close();
  const ks: Keystore = Keystore.open('a.keystore', 'a.master', { create: true });
  const w2 = Writer.create('s.maif', { key });
  w2.encryptShreddable(ks, 'chacha20');
  w2.addText('erasable');
  w2.commit();
  const erased: number = ks.shred(w2, [0], { punch: true });
  w2.close();
  ks.close();
  const ids: Report = verifyChains('s.maif', 'root.pem', { crls: 'crls.pem' });
  const q: Buffer = timestampQuery('s.maif');
  const w3 = Writer.open('s.maif', { key });
  const stamped: { id: string; commit: number } = w3.addTimestamp(q);
  w3.close();
  const ts: Report = verifyIdentities('s.maif', { tsaRoots: 'tsa.pem' });
  if (!ts || stamped.commit < 0) return false;
  const rep: Report = verify('run.maif', { trustedKeys: [key] });
  if (erased < 0 || !ids) return false;
  return rep.ok && hits.length >= 0;
}
