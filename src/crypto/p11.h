/*
 * p11.h — sessions on a PKCS#11 token and the AES-256 keys the keystore
 * keeps its master key under (docs/FORMAT.md §5.10). Private to src.
 *
 * A secret key is found by its label and its 16-byte CKA_ID; it is made
 * on the token (CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not
 * CKA_EXTRACTABLE, encrypt and decrypt only), so its value never leaves
 * the token, and destroying it there is what makes a stale copy of what
 * it sealed unreadable. Sealing is CKM_AES_GCM (96-bit IV, 128-bit tag).
 * Errors set the last-error message (maif_last_errmsg).
 */
#ifndef MAIF_P11_H
#define MAIF_P11_H

#include <stddef.h>
#include <stdint.h>

struct maif_p11;

/* Loads module, finds the token labelled token, opens a session (rw: one
 * that may create and destroy objects) and logs in with pin. Errors:
 * MAIF_ENOTFOUND (no such module file), MAIF_EINVAL (not a PKCS#11 2.x
 * module), MAIF_EACCESS (wrong or locked PIN), MAIF_EKEY (no such token,
 * a call failed), MAIF_ENOMEM. */
int maif_p11_session(struct maif_p11 **out, const char *module, const char *token, const char *pin, int rw);
/* Logs out, closes the session, and finalises and unloads the module when
 * no other session uses it. NULL is a no-op. */
void maif_p11_close(struct maif_p11 *p);

/* Generates a fresh AES-256 key on the token with label and id. Errors:
 * MAIF_EKEY. */
int maif_p11_secret_generate(struct maif_p11 *p, const char *label, const uint8_t id[16]);
/* out[0..n + 16) = AES-GCM of in[0..n) under the key (label, id), with
 * iv and ad. Errors: MAIF_EKEY (no such key: MAIF_ENOTFOUND), MAIF_EINVAL
 * (n over 4096). */
int maif_p11_secret_seal(struct maif_p11 *p, const char *label, const uint8_t id[16], const uint8_t iv[12],
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t n, uint8_t *out);
/* out[0..n - 16) = the plaintext of in[0..n) (ciphertext then tag); out
 * must hold n bytes. Errors: MAIF_ENOTFOUND (no such key on the token),
 * MAIF_EVERIFY (authentication failed), MAIF_EINVAL, MAIF_EKEY. */
int maif_p11_secret_open(struct maif_p11 *p, const char *label, const uint8_t id[16], const uint8_t iv[12],
                         const uint8_t *ad, size_t ad_len, const uint8_t *in, size_t n, uint8_t *out);
/* Destroys the secret key (label, id). Errors: MAIF_ENOTFOUND, MAIF_EKEY. */
int maif_p11_secret_destroy(struct maif_p11 *p, const char *label, const uint8_t id[16]);
/* Destroys every secret key labelled label whose id is none of
 * keep[0..nkeep); *destroyed (may be NULL) counts them. Errors: MAIF_EKEY
 * (a key could not be destroyed: it is still on the token). */
int maif_p11_secret_sweep(struct maif_p11 *p, const char *label, const uint8_t (*keep)[16], size_t nkeep,
                          unsigned *destroyed);

#endif
