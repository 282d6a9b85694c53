// The LangGraph example of README.md: node examples/langgraph.js [FILE]
import { Annotation, StateGraph, START, END } from '@langchain/langgraph';
import { MaifSaver } from 'maif/langgraph';
import { Key, verify } from 'maif';

const file = process.argv[2] ?? 'run.maif';
const State = Annotation.Root({
  messages: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const key = Key.generate();
const saver = new MaifSaver(file, { key });
const graph = new StateGraph(State)
  .addNode('agent', (s) => ({ messages: [`seen ${s.messages.length}`] }))
  .addEdge(START, 'agent').addEdge('agent', END)
  .compile({ checkpointer: saver });
const out = await graph.invoke({ messages: ['hi'] }, { configurable: { thread_id: 'conv-1' } });
saver.close();
console.log(out.messages, verify(file, { trustedKeys: [key] }).ok);
