/*
 * options.h — reading the public options object (maif_options, maif.h)
 * from inside the library. It lives in the bottom layer because every
 * layer above may be handed one: the writers read their flags from it, the
 * API layer turns it into each format's verify settings.
 */
#ifndef MAIF_OPTIONS_H
#define MAIF_OPTIONS_H

#include <stdint.h>

#include "maif.h"

/* Value of a known option id; NULL o gives the default. */
int64_t maif_opt(const maif_options *o, int option);
/* The pinned keys, MAIF_PUBKEY_BYTES each, back to back (NULL when none);
 * *n receives their number. Valid until o is changed or freed. */
const uint8_t *maif_opt_trusted(const maif_options *o, size_t *n);

#endif
