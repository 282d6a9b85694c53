// session.mjs — `maif mcp` checked with the official MCP TypeScript SDK's
// client (stdio transport): the handshake, tools/list, every tool, and one
// scripted session run against both `maif mcp` and the reference memory
// server (@modelcontextprotocol/server-memory), which must agree step by
// step and end with the same graph; then malformed JSON-RPC, unknown
// methods and tools, and oversized messages on a raw pipe, the server
// still answering after each. Prints "N passed, M failed".
// Usage: node session.mjs MAIF_BIN WORKDIR
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import assert from "node:assert/strict";

const [maifBin, work] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const refServer = path.join(path.dirname(require.resolve("@modelcontextprotocol/server-memory/package.json")), "dist", "index.js");
let passed = 0, failed = 0;
function check(desc, fn) {
  try { fn(); passed++; } catch (e) { failed++; console.log(`FAIL: ${desc}: ${e.message.split("\n").slice(0, 6).join(" | ")}`); }
}
async function acheck(desc, fn) {
  try { await fn(); passed++; } catch (e) { failed++; console.log(`FAIL: ${desc}: ${e.message.split("\n").slice(0, 6).join(" | ")}`); }
}

const env = { ...process.env };
async function connect(command, args, extraEnv = {}) {
  const client = new Client({ name: "maif-test", version: "1.0.0" });
  const transport = new StdioClientTransport({ command, args, env: { ...env, ...extraEnv }, stderr: "pipe" });
  await client.connect(transport);
  return client;
}

// The scripted session: every tool of the reference server, including
// duplicates, missing entities and deletions that cascade.
const script = [
  ["create_entities", { entities: [
    { name: "Alice", entityType: "person", observations: ["likes tea", "works at Acme"] },
    { name: "Bob", entityType: "person", observations: ["plays chess"] },
    { name: "Acme", entityType: "company", observations: [] },
  ] }],
  ["create_entities", { entities: [{ name: "Alice", entityType: "robot", observations: [] }, { name: "Carol", entityType: "person", observations: ["new here"] }] }],
  ["create_relations", { relations: [
    { from: "Alice", to: "Acme", relationType: "works_at" },
    { from: "Bob", to: "Alice", relationType: "knows" },
    { from: "Alice", to: "Acme", relationType: "works_at" },
    { from: "Carol", to: "Bob", relationType: "mentors" },
  ] }],
  ["add_observations", { observations: [
    { entityName: "Alice", contents: ["likes tea", "speaks French"] },
    { entityName: "Bob", contents: ["moved to Lyon", "moved to Lyon"] },
    { entityName: "Alice", contents: ["speaks French", "runs"] },
  ] }],
  ["add_observations", { observations: [{ entityName: "Nobody", contents: ["x"] }] }],
  ["search_nodes", { query: "LYON" }],
  ["search_nodes", { query: "person" }],
  ["open_nodes", { names: ["Alice", "Zed"] }],
  ["delete_observations", { deletions: [{ entityName: "Alice", observations: ["runs", "not there"] }, { entityName: "Zed", observations: ["x"] }] }],
  ["delete_relations", { relations: [{ from: "Bob", to: "Alice", relationType: "knows" }, { from: "X", to: "Y", relationType: "z" }] }],
  ["delete_entities", { entityNames: ["Bob", "Nobody"] }],
  ["create_entities", { entities: [{ name: "Ünïcode ✓", entityType: "test", observations: ["naïve café", "日本語"] }] }],
  ["search_nodes", { query: "café" }],
  ["read_graph", {}],
];

async function runScript(client) {
  const out = [];
  for (const [name, args] of script) {
    const r = await client.callTool({ name, arguments: args });
    out.push({ name, isError: !!r.isError, structured: r.structuredContent ?? null, text: r.content?.[0]?.text ?? null });
  }
  return out;
}

const maifFile = path.join(work, "memory.maif");
const refFile = path.join(work, "memory.jsonl");

const m = await connect(maifBin, ["mcp", maifFile]);
await acheck("handshake: server info", async () => {
  const info = m.getServerVersion();
  assert.equal(info.name, "maif");
  assert.ok(m.getServerCapabilities().tools);
});
const refTools = ["create_entities", "create_relations", "add_observations", "delete_entities", "delete_observations",
  "delete_relations", "read_graph", "search_nodes", "open_nodes"];
await acheck("tools/list: the reference tools and maif's own", async () => {
  const { tools } = await m.listTools();
  const names = tools.map(t => t.name);
  for (const t of [...refTools, "remember", "recall", "verify", "history", "prove"]) assert.ok(names.includes(t), t);
});

const ours = await runScript(m);
const ref = await connect("node", [refServer], { MEMORY_FILE_PATH: refFile });
const theirs = await runScript(ref);
await ref.close();
for (let i = 0; i < script.length; i++) {
  check(`step ${i} (${script[i][0]}) gives what the reference server gives`, () => {
    assert.equal(ours[i].isError, theirs[i].isError);
    if (!theirs[i].isError) {
      assert.deepEqual(ours[i].structured, theirs[i].structured);
      assert.deepEqual(JSON.parse(ours[i].text.startsWith("[") || ours[i].text.startsWith("{") ? ours[i].text : JSON.stringify(ours[i].text)),
        JSON.parse(theirs[i].text.startsWith("[") || theirs[i].text.startsWith("{") ? theirs[i].text : JSON.stringify(theirs[i].text)));
    } else {
      assert.match(ours[i].text, /Nobody not found/);
    }
  });
}
check("the final graphs are the same", () => assert.deepEqual(ours.at(-1).structured, theirs.at(-1).structured));

// maif's own tools
let remembered;
await acheck("remember stores a signed text block", async () => {
  const r = await m.callTool({ name: "remember", arguments: { text: "The user prefers short answers.", metadata: { topic: "style" } } });
  assert.ok(!r.isError);
  remembered = r.structuredContent;
  assert.match(remembered.id, /^[0-9a-f]{32}$/);
});
await acheck("verify: the artifact is intact", async () => {
  const r = await m.callTool({ name: "verify", arguments: {} });
  assert.equal(r.structuredContent.ok, true);
  assert.ok(r.structuredContent.blocks >= 8);
});
await acheck("history of the remembered block", async () => {
  const r = await m.callTool({ name: "history", arguments: { block: remembered.id } });
  assert.equal(r.structuredContent.versions.length, 1);
  assert.equal(r.structuredContent.versions[0].block, remembered.block);
});
await acheck("prove: an inclusion proof that maif check-proof accepts", async () => {
  const r = await m.callTool({ name: "prove", arguments: { block: remembered.block } });
  assert.equal(r.structuredContent.block, remembered.block);
  const fs = await import("node:fs");
  const p = path.join(work, "proof.json");
  fs.writeFileSync(p, JSON.stringify(r.structuredContent));
  const c = spawnSync(maifBin, ["check-proof", p], { env });
  assert.equal(c.status, 0, c.stderr.toString());
});
await acheck("recall finds the remembered text first", async () => {
  await m.callTool({ name: "remember", arguments: { text: "The deploy failed because the certificate expired." } });
  await m.callTool({ name: "remember", arguments: { text: "Lunch was pasta with tomatoes." } });
  const r = await m.callTool({ name: "recall", arguments: { query: "what answers does the user prefer", k: 3 } });
  assert.ok(!r.isError, r.content?.[0]?.text);
  assert.equal(r.structuredContent.results[0].id, remembered.id);
  assert.match(r.structuredContent.results[0].text, /short answers/);
  const r2 = await m.callTool({ name: "recall", arguments: { query: "certificate expiry", k: 1 } });
  assert.match(r2.structuredContent.results[0].text, /certificate expired/);
});
await acheck("resources: the graph and the blocks", async () => {
  const { resources } = await m.listResources();
  assert.equal(resources[0].uri, "memory://knowledge-graph");
  const blk = resources.find(x => x.uri === `maif://block/${remembered.id}`);
  assert.ok(blk);
  const g = await m.readResource({ uri: "memory://knowledge-graph" });
  assert.deepEqual(JSON.parse(g.contents[0].text), ours.at(-1).structured);
  const t = await m.readResource({ uri: blk.uri });
  assert.equal(t.contents[0].text, "The user prefers short answers.");
});
await acheck("unknown tool: a JSON-RPC error", async () => {
  await assert.rejects(m.callTool({ name: "no_such_tool", arguments: {} }), /not found/);
});
await acheck("invalid arguments: a JSON-RPC error", async () => {
  await assert.rejects(m.callTool({ name: "create_entities", arguments: { entities: [{ name: 1 }] } }), /Invalid arguments/);
});
await acheck("unknown resource: an error", async () => {
  await assert.rejects(m.readResource({ uri: "maif://block/00000000000000000000000000000000" }), /not found/i);
});
await m.close();

// A second server on the same file sees the same graph (the state is the artifact).
await acheck("a restarted server replays the graph from the artifact", async () => {
  const m2 = await connect(maifBin, ["mcp", maifFile]);
  const r = await m2.callTool({ name: "read_graph", arguments: {} });
  assert.deepEqual(r.structuredContent, ours.at(-1).structured);
  await m2.close();
});
check("maif verify accepts the artifact", () => {
  const v = spawnSync(maifBin, ["verify", maifFile], { env });
  assert.equal(v.status, 0, v.stdout.toString() + v.stderr.toString());
});

// Raw JSON-RPC: malformed input, and the server still answers.
async function raw(lines) {
  const p = spawn(maifBin, ["mcp", path.join(work, "raw.maif")], { env, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  p.stdout.on("data", d => { out += d; });
  for (const l of lines) p.stdin.write(l + "\n");
  p.stdin.end();
  const code = await new Promise(res => p.on("close", res));
  return { code, replies: out.split("\n").filter(Boolean).map(l => JSON.parse(l)) };
}
const big = JSON.stringify({ jsonrpc: "2.0", id: 99, method: "tools/call", params: { name: "remember", arguments: { text: "x".repeat(5 << 20) } } });
const r = await raw([
  "this is not json",
  JSON.stringify({ jsonrpc: "2.0", id: 1, method: "no/such/method" }),
  JSON.stringify({ id: 2, method: "ping" }),
  JSON.stringify([{ jsonrpc: "2.0", id: 3, method: "ping" }]),
  JSON.stringify({ jsonrpc: "2.0", id: 4, method: "tools/call", params: ["create_entities"] }),
  JSON.stringify({ jsonrpc: "2.0", id: 5, method: "tools/call", params: { name: "nope", arguments: {} } }),
  big,
  JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }),
  JSON.stringify({ jsonrpc: "2.0", id: 6, method: "ping" }),
]);
check("raw: the server exits 0 at the end of input", () => assert.equal(r.code, 0));
const byId = id => r.replies.find(x => x.id === id);
check("raw: a parse error is -32700", () => assert.equal(r.replies[0].error.code, -32700));
check("raw: an unknown method is -32601", () => assert.equal(byId(1).error.code, -32601));
check("raw: a request without jsonrpc is -32600", () => assert.equal(byId(2).error.code, -32600));
check("raw: a batch is -32600", () => assert.equal(r.replies[3].error.code, -32600));
check("raw: params that are not an object are -32602", () => assert.equal(byId(4).error.code, -32602));
check("raw: an unknown tool is -32602", () => assert.equal(byId(5).error.code, -32602));
check("raw: a 5 MiB message is refused (-32600) and skipped", () => {
  const e = r.replies.find(x => x.error && /larger than/.test(x.error.message));
  assert.ok(e);
  assert.equal(e.error.code, -32600);
  assert.equal(byId(99), undefined);
});
check("raw: still alive: ping answers after all that", () => assert.deepEqual(byId(6).result, {}));
check("raw: no answer to a notification", () => assert.equal(r.replies.length, 8));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
