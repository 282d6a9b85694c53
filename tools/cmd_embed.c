/*
 * cmd_embed.c — `maif embed`: embeds the texts that have no embedding of
 * the model yet, in one signed commit (maif_embed_file).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int run(int argc, char **argv)
{
    const char *model = NULL, *keyfile = NULL;
    const cli_opt opts[] = {
        {"--model", CLI_VALUE, NULL, &model, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_embed;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    int ex = cli_check_file(path);
    if (ex) return ex;
    maif_key *key = NULL;
    if ((ex = cli_load_key(keyfile, &key))) return ex;
    maif_options *o = NULL;
    int rc = cli_options_durable(&o);
    if (!rc) rc = maif_options_set(o, MAIF_OPT_LOCK_WAIT_MS, CLI_LOCK_WAIT_MS);
    uint64_t added = 0;
    if (!rc) rc = maif_embed_file(path, model ? model : "hashed", key, o, &added);
    maif_options_free(o);
    maif_key_free(key);
    if (rc) {
        ex = cli_fail(path, rc, maif_last_errmsg());
        return ex == CLI_EXIT_VERIFY && rc != MAIF_EFORMAT ? CLI_EXIT_USAGE : ex;
    }
    printf("embedded %llu text block%s (model %s)\n", (unsigned long long)added, added == 1 ? "" : "s",
           model ? model : "hashed");
    return cli_finish(CLI_EXIT_OK);
}

const cli_command cli_cmd_embed = {
    "embed", run, "embed the text blocks that have no embedding yet",
    "usage: maif embed FILE [--model MODEL] [--key KEYFILE]\n"
    "\n"
    "Embeds every readable text block of the native artifact FILE that has no\n"
    "embedding of MODEL yet, appending one embedding block (EMBD) per text, with\n"
    "metadata {\"model\": ..., \"source_block\": TEXT-ID, \"dimensions\": D, ...},\n"
    "in one commit signed with KEYFILE (default: the default key). Prints\n"
    "  embedded N text blocks (model MODEL)\n"
    "\n"
    "MODEL:\n"
    "  hashed      (default) built in, no model files: hashed words, word pairs\n"
    "              and character trigrams weighted by IDF, 256 dimensions. The\n"
    "              first `maif embed` learns the IDF weights from the artifact's\n"
    "              texts and stores them (an HIDF block); later texts and\n"
    "              queries use the same weights (model id \"hashed:ID\").\n"
    "  use[:DIR]   Universal Sentence Encoder lite, 512-d (not built in yet)\n"
    "  glove:PATH  averaged GloVe/word2vec vectors (not built in yet)\n"
    "Encrypted texts are skipped (an embedding would reveal them).\n"
    "\n"
    "exit codes: 0 done; 1 FILE is damaged; 2 usage error, missing file,\n"
    "unknown or unavailable model, bad key, or a 2.1 file.\n",
};
