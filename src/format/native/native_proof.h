/*
 * native_proof.h — RFC 6962 inclusion and consistency proofs over the
 * native Merkle tree (FORMAT.md §6): gathering them from an image, and
 * checking them from hashes alone. Internal; the public side is the
 * maif_proof object of include/maif.h.
 */
#ifndef MAIF_NATIVE_PROOF_H
#define MAIF_NATIVE_PROOF_H

#include <stddef.h>
#include <stdint.h>

#include "format/native/native.h"

/* Longest audit path: one hash per level of a tree of < 2^64 leaves. A
 * consistency path has at most two per level. */
#define NAT_PROOF_MAX_INCLUSION 64
#define NAT_PROOF_MAX_CONSISTENCY 128

/* The leaf hash of leaf i (H(0x00 ‖ record_hash) for the native tree). */
typedef int (*nat_leaf_fn)(void *ctx, uint64_t i, uint8_t out[32]);

/* The root of the perfect subtree D[a : a + 2^h] (h >= NAT_NODE_MIN_HEIGHT,
 * a a multiple of 2^h) when a stored structure holds it: 1 and out filled,
 * else 0 (not stored, or not readable: the caller computes it). */
typedef int (*nat_node_fn)(void *ctx, uint64_t a, uint32_t h, uint8_t out[32]);

/* MTH(D[a:b]) for a < b folded from the leaves, when that is cheaper than
 * one leaf call per leaf (consecutive leaves share their index lookups):
 * 0 or an error, as the leaf function. */
typedef int (*nat_span_fn)(void *ctx, uint64_t a, uint64_t b, uint8_t out[32]);

/* Where a gatherer gets the tree from: leaves always, stored nodes when
 * node is not NULL, runs of leaves through span when it is not NULL (all
 * called with ctx). */
typedef struct nat_tree_src {
    nat_leaf_fn leaf;
    nat_node_fn node;
    void *ctx;
    nat_span_fn span;
} nat_tree_src;

/* MTH(D[a:b]) for a < b, folding leaves a..b-1 through a frontier. */
int nat_proof_subtree_root(nat_leaf_fn leaf, void *ctx, uint64_t a, uint64_t b, uint8_t out[32]);
/* RFC 6962 PATH(m, D[0:n]), leaf to root, into path (NAT_PROOF_MAX_INCLUSION
 * slots); m < n. fr, the frontier of the n leaves (or NULL), supplies the
 * siblings on the right spine without reading leaves. Returns 0 or the leaf
 * function's error. */
int nat_proof_inclusion_path(nat_leaf_fn leaf, void *ctx, const nat_merkle *fr, uint64_t m, uint64_t n,
                             uint8_t (*path)[32], uint32_t *len);
/* RFC 6962 PROOF(m, D[0:n]) (0 < m <= n) into path
 * (NAT_PROOF_MAX_CONSISTENCY slots); fr as above. */
int nat_proof_consistency_path(nat_leaf_fn leaf, void *ctx, const nat_merkle *fr, uint64_t m, uint64_t n,
                               uint8_t (*path)[32], uint32_t *len);
/* The same two, taking every perfect subtree of height >= 7 from
 * src->node when it has it (a subtree it lacks is split in two and each
 * half asked again, down to height 6, which is folded from leaves). With
 * stored nodes for every batch a path costs O(log n) lookups and at most
 * 127 leaves, read in runs through src->span. */
int nat_proof_inclusion_path_src(const nat_tree_src *src, const nat_merkle *fr, uint64_t m, uint64_t n,
                                 uint8_t (*path)[32], uint32_t *len);
int nat_proof_consistency_path_src(const nat_tree_src *src, const nat_merkle *fr, uint64_t m, uint64_t n,
                                   uint8_t (*path)[32], uint32_t *len);

/* RFC 9162 §2.1.3.2: 1 if path proves leaf_hash at index in a tree of size
 * leaves whose root is root, else 0. */
int nat_proof_check_inclusion(const uint8_t leaf_hash[32], uint64_t index, uint64_t size,
                              const uint8_t (*path)[32], uint32_t len, const uint8_t root[32]);
/* RFC 9162 §2.1.4.2: 1 if path proves the tree of size1 leaves with root1 a
 * prefix of the tree of size2 with root2. size1 == size2 needs an empty path
 * and equal roots; size1 == 0 needs an empty path and root1 = H(""). */
int nat_proof_check_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[32], const uint8_t root2[32],
                                const uint8_t (*path)[32], uint32_t len);

/* A commit and what proves its signature without the file: the record
 * hash before it, its 112-byte header and its payload (borrowed views into
 * the image, valid as long as it). */
typedef struct nat_commit_ref {
    nat_commit c;
    uint8_t prev_hash[32];
    const uint8_t *hdr;
    const uint8_t *payload;
    uint64_t payload_size;
} nat_commit_ref;
/* Finds commit seq by walking back links from the last commit of v
 * (O(commits after it)), and the record hash before it. */
int nat_proof_commit(const nat_view *v, const uint8_t *base, uint64_t size, uint64_t seq, nat_commit_ref *out,
                     char *err, size_t errcap);
/* The leaf function over an image's committed blocks: ctx is a
 * nat_proof_image. */
typedef struct nat_proof_image {
    const nat_view *v;
    const uint8_t *base;
    uint64_t size;
    /* counted for benchmarks: records looked up, and the bytes of record
     * headers, index entries and node hashes read for them (directory
     * search steps, 16 bytes each, are not counted) */
    uint64_t reads, bytes;
} nat_proof_image;
int nat_proof_image_leaf(void *ctx, uint64_t i, uint8_t out[32]);
/* The span function over an image: one index lookup per index leaf the
 * run crosses, then the block records it maps, in order. */
int nat_proof_image_span(void *ctx, uint64_t a, uint64_t b, uint8_t out[32]);
/* The node function over an image: the node record after the index leaf
 * that maps the subtree's last block (FORMAT.md §5.13). */
int nat_proof_image_node(void *ctx, uint64_t a, uint32_t h, uint8_t out[32]);

/* Checks a commit given as bytes, without the file: the header is a commit
 * header (kind C, version 1 or 2, no extensions or metadata, stored_size =
 * payload_size), its record hash is H(prev ‖ header[0,80)) and matches the
 * stored one, its content hash matches the payload, the payload is well
 * formed, and the signature over domain ‖ record_hash verifies under the
 * commit's key (version 1: Ed25519, the signer field; version 2: the
 * signature area's algorithm and key, which must hash to the signer
 * field). Fills c (c->sig and c->pk point into payload). MAIF_EFORMAT or
 * MAIF_EVERIFY with one line in err. */
int nat_proof_commit_check(const uint8_t prev_hash[32], const uint8_t hdr[NAT_REC_HEADER], const uint8_t *payload,
                           uint64_t payload_size, nat_commit *c, char *err, size_t errcap);

#endif
