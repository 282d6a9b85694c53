/*
 * analyze.c — `maif add --type text --analyze`: the language (fastText
 * lid.176) and VADER sentiment of a text, merged into the block's
 * metadata as "language", "language_confidence" and "sentiment".
 *
 * The models are files in the model directory: $MAIF_MODELS, else
 * $MAIF_CACHE/models, else ${XDG_CACHE_HOME:-~/.cache}/maif/models
 * (scripts/fetch-lid.sh fills it); $MAIF_LID_MODEL and
 * $MAIF_VADER_LEXICON name the files directly. Nothing is fetched here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *model_path(const char *env, const char *file, char *buf, size_t cap)
{
    const char *p = getenv(env), *d;
    if (p && *p) return p;
    if ((d = getenv("MAIF_MODELS")) && *d) snprintf(buf, cap, "%s/%s", d, file);
    else if ((d = getenv("MAIF_CACHE")) && *d) snprintf(buf, cap, "%s/models/%s", d, file);
    else if ((d = getenv("XDG_CACHE_HOME")) && *d) snprintf(buf, cap, "%s/maif/models/%s", d, file);
    else snprintf(buf, cap, "%s/.cache/maif/models/%s", getenv("HOME") ? getenv("HOME") : ".", file);
    return buf;
}

static int load_err(const char *path, int rc, const char *env)
{
    if (rc == MAIF_ENOTFOUND)
        cli_err(path, "not found (fetch it with scripts/fetch-lid.sh, or set %s or MAIF_MODELS)", env);
    else
        cli_err(path, "%s", cli_detail(path, maif_last_errmsg()));
    return CLI_EXIT_USAGE;
}

int cli_analyze_meta(const char *subject, const char *meta, const void *text, size_t n, char **out)
{
    *out = NULL;
    if (!maif_utf8_valid(text, n)) {
        cli_err(subject, "--analyze: the text is not valid UTF-8 (nothing added)");
        return CLI_EXIT_USAGE;
    }
    json_error_t jerr;
    json_t *obj = meta ? json_loads(meta, JSON_REJECT_DUPLICATES, &jerr) : json_object();
    if (!obj || !json_is_object(obj)) {
        cli_err(subject, "--meta: not a JSON object");
        json_decref(obj);
        return CLI_EXIT_USAGE;
    }
    static const char *const keys[] = {"language", "language_confidence", "sentiment"};
    for (size_t i = 0; i < 3; i++)
        if (json_object_get(obj, keys[i])) {
            cli_err(subject, "--meta already has \"%s\", which --analyze sets", keys[i]);
            json_decref(obj);
            return CLI_EXIT_USAGE;
        }
    char b1[4096], b2[4096];
    const char *lid_path = model_path("MAIF_LID_MODEL", "lid.176.ftz", b1, sizeof b1);
    const char *lex_path = model_path("MAIF_VADER_LEXICON", "vader_lexicon.txt", b2, sizeof b2);
    maif_langid *l = NULL;
    maif_vader *v = NULL;
    int ex = CLI_EXIT_OK, rc;
    if ((rc = maif_langid_load(&l, lid_path))) { ex = load_err(lid_path, rc, "MAIF_LID_MODEL"); goto out; }
    if ((rc = maif_vader_load(&v, lex_path))) { ex = load_err(lex_path, rc, "MAIF_VADER_LEXICON"); goto out; }
    char label[MAIF_LANG_LABEL_MAX], num[32];
    double conf = 0;
    maif_sentiment s;
    if ((rc = maif_text_language(l, text, n, label, sizeof label, &conf)) ||
        (rc = maif_text_sentiment(v, text, n, &s))) {
        cli_err(subject, "--analyze: %s (nothing added)", maif_last_errmsg());
        ex = CLI_EXIT_USAGE;
        goto out;
    }
    snprintf(num, sizeof num, "%.6g", conf); /* as `fasttext predict-prob` prints it */
    json_object_set_new(obj, "language", json_string(label));
    json_object_set_new(obj, "language_confidence", json_real(strtod(num, NULL)));
    json_object_set_new(obj, "sentiment", json_pack("{s:f,s:f,s:f,s:f}", "compound", s.compound, "neg", s.neg,
                                                    "neu", s.neu, "pos", s.pos));
    *out = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!*out) {
        cli_err(subject, "out of memory");
        ex = CLI_EXIT_USAGE;
    }
out:
    json_decref(obj);
    maif_langid_free(l);
    maif_vader_free(v);
    return ex;
}
