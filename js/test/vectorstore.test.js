import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Document } from '@langchain/core/documents';
import { FakeEmbeddings, SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { MaifVectorStore } from '../src/vectorstore.js';
import { Key, Keyring, Reader, Writer, verify } from '../src/index.js';
import { tmpdir } from './helpers.js';

const dir = tmpdir('maif-vs-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const texts = [
  'the cat sat on the mat',
  'dogs chase cats in the park',
  'quarterly revenue grew by ten percent',
  'the stock market fell sharply today',
  'a kitten sleeps on a warm mat',
];

function cosine(a, b) {
  let d = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return d / Math.sqrt(na * nb);
}

describe('MaifVectorStore', () => {
  it('stores TEXT and EMBD blocks linked by source_block, and verifies', async () => {
    const key = Key.generate();
    const file = path.join(dir, 'docs.maif');
    const emb = new SyntheticEmbeddings({ vectorSize: 8 });
    const store = await MaifVectorStore.fromTexts(texts, texts.map((_, i) => ({ n: i, topic: i < 2 || i === 4 ? 'pets' : 'money' })), emb, { path: file, key, model: 'synthetic-8' });
    store.close();
    const r = new Reader(file);
    expect(r.count).toBe(10);
    for (let i = 0; i < 10; i += 2) {
      const t = r.block(i), e = r.block(i + 1);
      expect(t.type).toBe('TEXT');
      expect(t.text).toBe(texts[i / 2]);
      expect(t.metadata.n).toBe(i / 2);
      expect(e.type).toBe('EMBD');
      expect(e.metadata).toMatchObject({ model: 'synthetic-8', source_block: t.id, count: 1, dimensions: 8 });
      const want = await emb.embedQuery(texts[i / 2]);
      expect(Array.from(e.vectors[0])).toEqual(Array.from(Float32Array.from(want)));
    }
    expect(r.info().commitCount).toBe(2); // the empty first commit and one for the batch
    r.close();
    expect(verify(file, { trustedKeys: [key] }).ok).toBe(true);
  });

  it('ranks by exact cosine similarity, as a brute-force reference does', async () => {
    const emb = new SyntheticEmbeddings({ vectorSize: 8 });
    const file = path.join(dir, 'rank.maif');
    const store = new MaifVectorStore(emb, { path: file });
    const ids = await store.addDocuments(texts.map((t, i) => new Document({ pageContent: t, metadata: { n: i } })));
    expect(ids).toHaveLength(5);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const q of ['cat on mat', 'market revenue', 'kitten']) {
      const qv = await emb.embedQuery(q);
      const ref = await Promise.all(texts.map(async (t) => [t, cosine(qv, Array.from(Float32Array.from(await emb.embedQuery(t))))]));
      ref.sort((a, b) => b[1] - a[1]);
      const got = await store.similaritySearchVectorWithScore(qv, 3);
      expect(got).toHaveLength(3);
      for (let i = 0; i < 3; i++) {
        expect(got[i][1]).toBeCloseTo(ref[i][1], 5);
      }
      expect(got[0][0].pageContent).toBe(ref[0][0]);
      // Through the public LangChain entry points too.
      const viaText = await store.similaritySearchWithScore(q, 3);
      expect(viaText.map(([d]) => d.pageContent)).toEqual(got.map(([d]) => d.pageContent));
    }
    const exact = await store.similaritySearch(texts[3], 1);
    expect(exact[0].pageContent).toBe(texts[3]);
    expect(exact[0].id).toBe(ids[3]);
    expect(exact[0].metadata).toEqual({ n: 3 });
    store.close();
  });

  it('filters by metadata object or function, and serves as a retriever', async () => {
    const emb = new SyntheticEmbeddings({ vectorSize: 8 });
    const file = path.join(dir, 'filter.maif');
    const store = await MaifVectorStore.fromTexts(texts, texts.map((_, i) => ({ n: i, topic: i < 2 || i === 4 ? 'pets' : 'money' })), emb, { path: file });
    const money = await store.similaritySearch('cat', 5, { topic: 'money' });
    expect(money.map((d) => d.metadata.n).sort()).toEqual([2, 3]);
    const odd = await store.similaritySearch('cat', 5, (d) => d.metadata.n % 2 === 1);
    expect(odd.map((d) => d.metadata.n).sort()).toEqual([1, 3]);
    const docs = await store.asRetriever(2).invoke(texts[3]); // synthetic vectors: the text itself is the nearest
    expect(docs).toHaveLength(2);
    expect(docs[0].pageContent).toBe(texts[3]);
    store.close();
  });

  it('reopens an artifact, follows other writers, and keeps models apart', async () => {
    const key = Key.generate();
    const file = path.join(dir, 'shared.maif');
    const fake = new FakeEmbeddings();
    const a = new MaifVectorStore(fake, { path: file, key, model: 'fake-4' });
    await a.addDocuments([new Document({ pageContent: 'first' })]);
    const b = await MaifVectorStore.fromExistingIndex(fake, { path: file, key, model: 'fake-4' });
    expect((await b.similaritySearch('anything', 10)).map((d) => d.pageContent)).toEqual(['first']);
    await b.addDocuments([new Document({ pageContent: 'second', metadata: { by: 'b' } })]);
    // a sees b's commit at its next search.
    const seen = await a.similaritySearchWithScore('x', 10);
    expect(seen.map(([d]) => d.pageContent).sort()).toEqual(['first', 'second']);
    for (const [, score] of seen) expect(score).toBeCloseTo(1, 6); // FakeEmbeddings: one vector for all
    // Another model's vectors in the same artifact are not compared.
    const syn = new MaifVectorStore(new SyntheticEmbeddings({ vectorSize: 4 }), { path: file, key, model: 'synthetic-4' });
    expect(await syn.similaritySearch('first', 10)).toEqual([]);
    await syn.addDocuments([new Document({ pageContent: 'third' })]);
    expect((await syn.similaritySearch('first', 10)).map((d) => d.pageContent)).toEqual(['third']);
    expect((await a.similaritySearch('x', 10)).length).toBe(2);
    a.close(); b.close(); syn.close();
    expect(verify(file, { trustedKeys: [key] }).ok).toBe(true);
  });

  it('uses caller ids (32 hex digits) as the text blocks\' ids', async () => {
    const file = path.join(dir, 'ids.maif');
    const store = new MaifVectorStore(new SyntheticEmbeddings({ vectorSize: 4 }), { path: file });
    const ids = ['11'.repeat(16), '22'.repeat(16)];
    expect(await store.addDocuments([new Document({ pageContent: 'one' }), new Document({ pageContent: 'two' })], { ids })).toEqual(ids);
    const [hit] = await store.similaritySearch('two', 1);
    expect(hit.id).toBe(ids[1]);
    await expect(store.addDocuments([new Document({ pageContent: 'x' })], { ids: ['not-hex'] })).rejects.toThrow(/32 hex/);
    store.close();
  });

  it('skips sealed vectors it cannot open, and finds them with the keyring', async () => {
    const file = path.join(dir, 'sealed.maif');
    const key = Key.generate();
    const emb = new SyntheticEmbeddings({ vectorSize: 4 });
    const w = Writer.create(file, { key });
    const kr = new Keyring({ recipients: [key], identities: [key] });
    w.encrypt(kr);
    const id = w.addText('a sealed memory');
    w.addEmbedding([await emb.embedQuery('a sealed memory')], { model: 'syn', source_block: id });
    w.commit();
    w.close();
    const blind = new MaifVectorStore(emb, { path: file, key, model: 'syn' });
    expect(await blind.similaritySearch('a sealed memory', 3)).toEqual([]);
    blind.close();
    const seeing = new MaifVectorStore(emb, { path: file, key, model: 'syn', keyring: kr });
    const [hit] = await seeing.similaritySearch('a sealed memory', 3);
    expect(hit.pageContent).toBe('a sealed memory');
    seeing.close();
  });

  it('refuses mismatched input without writing anything', async () => {
    const file = path.join(dir, 'bad.maif');
    const store = new MaifVectorStore(new FakeEmbeddings(), { path: file });
    await expect(store.addVectors([[1, 2]], [])).rejects.toThrow(/1 vectors for 0 documents/);
    await expect(store.addVectors([[1, NaN]], [new Document({ pageContent: 'x' })])).rejects.toThrow();
    const r = new Reader(file);
    expect(r.count).toBe(0);
    r.close();
    store.close();
  });
});
