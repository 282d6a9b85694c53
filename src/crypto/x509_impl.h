/*
 * x509_impl.h — the inside of x509.h's opaque types, shared by x509.c
 * (chains, roots, CRLs) and tsa.c (time-stamp tokens verified to roots).
 * Private to src/crypto.
 */
#ifndef MAIF_X509_IMPL_H
#define MAIF_X509_IMPL_H

#include <openssl/x509.h>

struct mx_chain {
    STACK_OF(X509) *certs; /* leaf first */
};

struct mx_store {
    X509_STORE *store;
};

struct mx_crls {
    STACK_OF(X509_CRL) *crls;
};

/* One line naming n (printable ASCII only) into buf. */
const char *mx_name_line(const X509_NAME *n, char *buf, size_t cap);
/* t as "YYYY-MM-DDTHH:MM:SSZ" ("?" if unreadable). */
void mx_fmt_time(const ASN1_TIME *t, char *buf, size_t cap);
/* t as seconds since the epoch: 0, or -1 if unreadable. */
int mx_asn1_to_unix(const ASN1_TIME *t, int64_t *out);

#endif
