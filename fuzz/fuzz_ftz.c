/*
 * fuzz_ftz.c — the fastText model reader (src/understand/lang_ftz.c) on
 * hostile model files. Each input is a model: loading it must fail with a
 * clear error or succeed, and a loaded model must score texts (plain,
 * empty, "</s>", labels, long words, invalid UTF-8) without reading past
 * anything. Seeds: scripts/make-ftz-seeds.py (tiny valid models, a
 * truncated one, a bad magic).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const texts[] = {
        "hello", "bonjour le monde", "", " \t\r\n ", "hello </s> bonjour", "__label__en hello",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80", "\xff\xfe bad",
    };
    maif_langid *l = NULL;
    int rc = maif_langid_load_mem(&l, data, size);
    if (rc != MAIF_OK) {
        if (l || !maif_last_errmsg()[0]) abort(); /* failure: no handle, and a message */
        return 0;
    }
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char label[MAIF_LANG_LABEL_MAX];
        double conf = -1;
        rc = maif_text_language(l, texts[i], strlen(texts[i]), label, sizeof label, &conf);
        /* a hostile model can push the probability a little past 1 (each level adds log(1 + 1e-5)) or to inf */
        if (rc == MAIF_OK && !(conf >= 0)) abort();
        if (rc != MAIF_OK && rc != MAIF_EINVAL && rc != MAIF_ENOTFOUND && rc != MAIF_EFORMAT && rc != MAIF_ELIMIT) abort();
        if (i == 8 && rc != MAIF_EINVAL) abort(); /* not UTF-8 */
    }
    maif_langid_free(l);
    return 0;
}
