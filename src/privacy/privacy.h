/*
 * privacy.h — the privacy engine's internals shared with its tests.
 */
#ifndef MAIF_PRIVACY_H
#define MAIF_PRIVACY_H

#include <stdint.h>

#include "maif.h"

#define MAIF_TYPE_KEYWRAP MAIF_FOURCC('K', 'E', 'Y', 'W')

/* Passphrase KDF parameters the keyring writes with (defaults: Argon2id at
 * libsodium's MODERATE limits, PBKDF2 at 600 000 rounds). Tests lower them;
 * a reader accepts anything up to the caps in keyring.c. */
int maif_keyring_set_kdf_params(maif_keyring *kr, uint64_t argon_ops, uint64_t argon_mem, uint32_t pbkdf2_iter);

#endif
