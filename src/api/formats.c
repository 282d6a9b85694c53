/*
 * formats.c — the list of formats the API layer knows. A new format adds
 * its table here and nowhere else in this layer.
 */
#include "api/api.h"

const maif_format_ops *const maif_formats[] = {&maif_format_native, &maif_format_v21, NULL};

const maif_format_ops *maif_format_detect(const uint8_t *buf, size_t len)
{
    for (size_t i = 0; maif_formats[i]; i++)
        if (maif_formats[i]->detect(buf, len)) return maif_formats[i];
    return NULL;
}

const maif_format_ops *maif_format_by_id(int id)
{
    for (size_t i = 0; maif_formats[i]; i++)
        if (maif_formats[i]->id == id) return maif_formats[i];
    return NULL;
}
