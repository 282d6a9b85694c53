// The vector-store example of README.md: node examples/vectorstore.js [FILE]
// (with @langchain/core's deterministic SyntheticEmbeddings; use a real model in practice).
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { MaifVectorStore } from 'maif/langchain';

const file = process.argv[2] ?? 'docs.maif';
const embeddings = new SyntheticEmbeddings({ vectorSize: 8 });
const store = await MaifVectorStore.fromTexts(['a cat', 'a dog'], [{ n: 1 }, { n: 2 }], embeddings, { path: file });
const [[doc, score]] = await store.similaritySearchWithScore('a cat', 1);
store.close();
console.log(doc.pageContent, doc.metadata, score.toFixed(3));
