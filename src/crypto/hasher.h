/*
 * hasher.h — content hashes (SHA-256 unless set) of queued buffers on a
 * background thread.
 *
 * A writer that appends many small records spends most of its time on the
 * SHA-256 of their payloads. The hasher lets one thread (the producer)
 * queue "hash these bytes into that slot" jobs and go on copying the next
 * record while a helper thread works through the queue. When the producer
 * needs the results it calls maif_hasher_wait, which hashes on the calling
 * thread whatever the helper has not taken yet and returns once every
 * queued job is done. The helper sleeps when the queue is empty.
 *
 * The same queue also takes the odd other job that can run beside the
 * producer (the writer signs a commit there while it writes the batch).
 *
 * One producer only: push and wait must not be called concurrently.
 * Between a push and the wait that follows, the producer must neither move
 * nor modify the job's input bytes nor read or write its output slot.
 */
#ifndef MAIF_HASHER_H
#define MAIF_HASHER_H

#include <stddef.h>
#include <stdint.h>

typedef struct maif_hasher maif_hasher;

/* Starts the helper thread with room for cap queued jobs (a power of two).
 * Returns NULL if memory or the thread cannot be had; the caller then
 * hashes inline. */
maif_hasher *maif_hasher_start(size_t cap);
/* Which content hash (MAIF_HASH_*) later pushes compute; SHA-256 until
 * set. Producer only. */
void maif_hasher_set_alg(maif_hasher *h, int alg);
/* Queues out = the content hash of data[0..size). Returns 0, or -1 when the queue is
 * full (call maif_hasher_wait, then push again). */
int maif_hasher_push(maif_hasher *h, const void *data, size_t size, uint8_t out[32]);
/* Queues fn(arg), to run on the helper (or on the caller, in a wait).
 * Returns 0, or -1 when the queue is full. */
int maif_hasher_push_call(maif_hasher *h, void (*fn)(void *), void *arg);
/* Jobs queued since the last wait. */
size_t maif_hasher_pending(const maif_hasher *h);
/* Finishes every queued job (helping on this thread) and returns when all
 * are done; their outputs are then visible to the caller. */
void maif_hasher_wait(maif_hasher *h);
/* Lets the helper finish the queued jobs, joins it and frees. NULL is a
 * no-op. */
void maif_hasher_stop(maif_hasher *h);

#endif
