/*
 * reader_internal.h — what other parts of the library may ask a reader
 * beyond the public API.
 */
#ifndef MAIF_READER_INTERNAL_H
#define MAIF_READER_INTERNAL_H

#include "maif.h"

/* The whole mapped image (committed part and any torn tail). */
const uint8_t *maif_reader_image(const maif_reader *r, uint64_t *size);

#endif
