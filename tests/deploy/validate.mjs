// validate.mjs — validates Kubernetes objects against the OpenAPI schemas
// that kubernetes-models and @kubernetes-models/prometheus-operator ship
// (run by tests/cli/test_deploy.sh, versions pinned in package-lock.json).
//
//   node validate.mjs OBJECTS.json
// OBJECTS.json: [{"file": "...", "object": {...}}, ...] (the YAML documents,
// converted by the test). Prints "ok: FILE KIND NAME" or
// "FAIL: FILE KIND NAME: why" for each; exit 1 when one fails.
import { readFileSync } from "node:fs";

const MODELS = {
  "v1/ConfigMap": "kubernetes-models/v1/ConfigMap",
  "v1/Secret": "kubernetes-models/v1/Secret",
  "v1/Service": "kubernetes-models/v1/Service",
  "v1/PersistentVolumeClaim": "kubernetes-models/v1/PersistentVolumeClaim",
  "apps/v1/Deployment": "kubernetes-models/apps/v1/Deployment",
  "monitoring.coreos.com/v1/ServiceMonitor": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor",
};

const docs = JSON.parse(readFileSync(process.argv[2], "utf8"));
let bad = 0;
for (const { file, object } of docs) {
  const key = `${object.apiVersion}/${object.kind}`;
  const what = `${file} ${object.kind} ${object.metadata?.name}`;
  const path = MODELS[key];
  if (!path) {
    console.log(`FAIL: ${what}: no schema for ${key} here`);
    bad++;
    continue;
  }
  try {
    const mod = await import(path);
    const Model = mod[object.kind] ?? mod.default;
    new Model(object).validate();
    console.log(`ok: ${what} is a valid ${key}`);
  } catch (e) {
    console.log(`FAIL: ${what}: ${String(e.message ?? e).split("\n").slice(0, 6).join(" | ")}`);
    bad++;
  }
}
process.exit(bad ? 1 : 0);
