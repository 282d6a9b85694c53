#!/usr/bin/python3
"""make-use-tiny.py — writes a tiny model with the layout of USE-lite's TF.js
graph (same tensor names, tiny shapes, deterministic pseudo-random weights)
into tests/data/use-tiny/, and the fuzz seed fuzz/corpus/fuzz_model/tiny
(model.json length and vocab.json length as 4-byte little-endian, then the
two texts, then the weights). The unit tests and the fuzz target use it;
the real model is fetched by scripts/fetch-models.sh."""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "use-tiny")
PA = "module_apply_default/Encoder_en/KonaTransformer/"
PM = "module/Encoder_en/KonaTransformer/"
D0, D1, FFN, DOUT, DEPTH0, DEPTH1 = 8, 16, 32, 12, 4, 8
VOCAB = [["<unk>", 0], ["<s>", 0], ["</s>", 0], ["x1", 0], ["x2", 0], ["x3", 0],
         ["\u2581", -2.0], ["a", -3.0], ["b", -3.5], ["\u2581a", -2.5], ["ab", -4.0],
         ["\u2581ab", -3.0], ["c", -5.0], ["\u2581c", None], ["\u00e9", -4.0], ["\u2581b", -3.25]]

state = [12345]


def rnd():
    state[0] = (state[0] * 1103515245 + 12345) % (1 << 31)
    return (state[0] / (1 << 31)) * 2 - 1


weights = []  # (name, shape, dtype, values)


def f32(name, shape, scale=0.5, const=None):
    n = 1
    for s in shape:
        n *= s
    vals = [const if const is not None else rnd() * scale for _ in range(n)]
    weights.append((name, shape, "float32", vals))


def i32(name, v):
    weights.append((name, [], "int32", [v]))


f32("module/Embeddings_en", [len(VOCAB) + 2, D0])
f32(PA + "Encode/TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1", [1, D0 // 2], 1.0)
f32(PA + "Encode/Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat", [D0, D1])
f32(PA + "Encode/Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat", [D1])
for L, din, depth in ((0, D0, DEPTH0), (1, D1, DEPTH1)):
    f32(PA + "Encode/Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat" % L, [din])
    f32(PA + "Encode/Layer_%d/TransformerLayer/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat" % L, [din])
    f32(PM + "Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0" % L, [1, 1, din, 3 * din])
    f32(PA + "Encode/Layer_%d/TransformerLayer/MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat" % L, [3 * din])
    f32(PM + "Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0" % L, [1, 1, din, D1])
    f32(PA + "Encode/Layer_%d/TransformerLayer/MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat" % L, [D1])
    f32(PA + "Encode/Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat" % L, [D1])
    f32(PA + "Encode/Layer_%d/TransformerLayer/FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat" % L, [D1])
    f32(PA + "Encode/TransformerStack/Layer_%d/TransformerLayer/FFN/conv1/Tensordot/Reshape_1" % L, [D1, FFN])
    f32(PA + "Encode/Layer_%d/TransformerLayer/FFN/conv1/bias/ConcatPartitions/concat" % L, [FFN])
    f32(PA + "Encode/TransformerStack/Layer_%d/TransformerLayer/FFN/conv2/Tensordot/Reshape_1" % L, [FFN, D1])
    f32(PA + "Encode/Layer_%d/TransformerLayer/FFN/conv2/bias/ConcatPartitions/concat" % L, [D1])
    i32(PA + "Encode/TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/split_heads/split_last_dimension/Reshape/shape/3" % L, depth)
    f32(PA + "Encode/TransformerStack/Layer_%d/TransformerLayer/MultiheadAttention/mul/y" % L, [], const=depth ** -0.5)
f32("module/Encoder_en/hidden_layers/tanh_layer_0/weights", [D1, DOUT])
f32("module/Encoder_en/hidden_layers/tanh_layer_0/bias", [DOUT])
f32(PA + "Encode/TransformerStack/Layer_1/TransformerLayer/FFN/layer_prepostprocess/layer_norm/Cast/x", [], const=1e-6)
f32("module_apply_default/Encoder_en/hidden_layers/l2_normalize/Maximum/y", [], const=1e-12)
i32(PA + "ClipToMaxLength/Less/y", 128)

blob = b""
manifest = []
for name, shape, dtype, vals in weights:
    blob += struct.pack("<%d%s" % (len(vals), "f" if dtype == "float32" else "i"), *vals)
    manifest.append({"name": name, "shape": shape, "dtype": dtype})
model = {
    "format": "graph-model",
    "modelTopology": {"node": [{"name": "indices", "op": "Placeholder"}, {"name": "values", "op": "Placeholder"},
                               {"name": "module_apply_default/Encoder_en/hidden_layers/l2_normalize", "op": "Mul"}]},
    "weightsManifest": [{"paths": ["group1-shard1of1"], "weights": manifest}],
}
mj = json.dumps(model, separators=(",", ":")).encode()
vj = json.dumps(VOCAB, ensure_ascii=False, separators=(",", ":")).encode()
os.makedirs(OUT, exist_ok=True)
open(os.path.join(OUT, "model.json"), "wb").write(mj)
open(os.path.join(OUT, "vocab.json"), "wb").write(vj)
open(os.path.join(OUT, "group1-shard1of1"), "wb").write(blob)
seed = os.path.join(ROOT, "fuzz", "corpus", "fuzz_model")
os.makedirs(seed, exist_ok=True)
open(os.path.join(seed, "tiny"), "wb").write(struct.pack("<II", len(mj), len(vj)) + mj + vj + blob)
print("use-tiny: %d tensors, %d weight bytes" % (len(weights), len(blob)))
