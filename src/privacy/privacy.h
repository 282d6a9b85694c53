/*
 * privacy.h — the privacy engine's internals shared with its tests.
 */
#ifndef MAIF_PRIVACY_H
#define MAIF_PRIVACY_H

#include <stdint.h>

#include "maif.h"

/* audit.c: signed control blocks (AUDT, ERAS, POLY; FORMAT.md §5.9) */
/* Adds a block stored as is (no codec or cipher, whatever w's stages). */
int priv_add_plain(maif_writer *w, const maif_block_spec *sp, uint8_t id_out[MAIF_ID_BYTES]);
/* Adds a control block of type with payload, signed by w's key in its
 * metadata. Errors: those of maif_writer_add; the message is on w. */
int priv_add_signed(maif_writer *w, uint32_t type, const void *payload, size_t n, const uint8_t *supersedes,
                    uint8_t id_out[MAIF_ID_BYTES]);
/* Checks a control block's own signature; actor receives the signer.
 * MAIF_EVERIFY if it does not check. */
int priv_check_signed(maif_reader *r, const maif_block *b, uint8_t actor[MAIF_PUBKEY_BYTES]);
/* The action and "recipient" of an audit payload (grant, revoke). */
int priv_audit_recipient(const maif_block *b, char *action, size_t cap, uint8_t pk[MAIF_PUBKEY_BYTES]);

/* Passphrase KDF parameters the keyring writes with (defaults: Argon2id at
 * libsodium's MODERATE limits, PBKDF2 at 600 000 rounds). Tests lower them;
 * a reader accepts anything up to the caps in keyring.c. */
int maif_keyring_set_kdf_params(maif_keyring *kr, uint64_t argon_ops, uint64_t argon_mem, uint32_t pbkdf2_iter);

/* keystore.c: a key of ks by id (borrowed), or MAIF_EACCESS. */
int priv_keystore_lookup(maif_keystore *ks, const uint8_t *id, size_t id_len, const uint8_t **key);

/* policy.c: r's current policy (*out NULL: none); MAIF_EACCESS with why
 * when the policy blocks do not establish one (fail-closed). */
int priv_current_policy(maif_reader *r, maif_policy **out, uint64_t *index, char *why, size_t cap);

#endif
