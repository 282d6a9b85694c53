/*
 * cmd_query.c — `maif query FILE --dp-epsilon E ...`: differentially
 * private aggregates over block metadata. The library records the charge
 * in a signed ledger block and commits it before it computes the answer
 * (maif_dp_query_run); this file parses flags and prints.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int parse_bound(const char *flag, const char *s, double *v)
{
    char *end = NULL;
    *v = strtod(s, &end);
    if (!*s || *end || !isfinite(*v)) {
        cli_err("query", "%s: '%.40s' is not a finite number", flag, s);
        return -1;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    const char *eps = NULL, *delta = NULL, *budget = NULL, *budget_delta = NULL, *keyfile = NULL, *type_s = NULL;
    const char *sum = NULL, *mean = NULL, *hist = NULL, *cats = NULL, *lower = NULL, *upper = NULL;
    int count = 0, as_json = 0;
    const cli_opt opts[] = {
        {"--dp-epsilon", CLI_VALUE, NULL, &eps, NULL, 0, NULL},
        {"--dp-delta", CLI_VALUE, NULL, &delta, NULL, 0, NULL},
        {"--dp-budget", CLI_VALUE, NULL, &budget, NULL, 0, NULL},
        {"--dp-budget-delta", CLI_VALUE, NULL, &budget_delta, NULL, 0, NULL},
        {"--count", CLI_FLAG, &count, NULL, NULL, 0, NULL},
        {"--sum", CLI_VALUE, NULL, &sum, NULL, 0, NULL},
        {"--mean", CLI_VALUE, NULL, &mean, NULL, 0, NULL},
        {"--histogram", CLI_VALUE, NULL, &hist, NULL, 0, NULL},
        {"--categories", CLI_VALUE, NULL, &cats, NULL, 0, NULL},
        {"--lower", CLI_VALUE, NULL, &lower, NULL, 0, NULL},
        {"--upper", CLI_VALUE, NULL, &upper, NULL, 0, NULL},
        {"--type", CLI_VALUE, NULL, &type_s, NULL, 0, NULL},
        {"--key", CLI_VALUE, NULL, &keyfile, NULL, 0, NULL},
        {"--json", CLI_FLAG, &as_json, NULL, NULL, 0, NULL},
        {0},
    };
    const char *pos[1];
    int np;
    const cli_command *me = &cli_cmd_query;
    int pr = cli_parse(me, argc, argv, opts, pos, 1, 1, &np);
    if (pr == CLI_PARSE_HELP) return cli_help(me);
    if (pr != CLI_PARSE_OK) return CLI_EXIT_USAGE;
    const char *path = pos[0];
    if (!eps) return cli_usage_err(me, "missing --dp-epsilon E");
    if (count + (sum != NULL) + (mean != NULL) + (hist != NULL) != 1)
        return cli_usage_err(me, "give exactly one of --count, --sum KEY, --mean KEY, --histogram KEY");
    maif_dp_query q = {0};
    q.epsilon = eps;
    q.delta = delta;
    q.budget_epsilon = budget;
    q.budget_delta = budget_delta;
    q.kind = count ? MAIF_DP_COUNT : sum ? MAIF_DP_SUM : mean ? MAIF_DP_MEAN : MAIF_DP_HISTOGRAM;
    q.key = sum ? sum : mean ? mean : hist;
    if (q.kind == MAIF_DP_SUM || q.kind == MAIF_DP_MEAN) {
        if (!lower || !upper) return cli_usage_err(me, "--sum and --mean need --lower L and --upper U");
        if (parse_bound("--lower", lower, &q.lower) || parse_bound("--upper", upper, &q.upper)) return CLI_EXIT_USAGE;
    } else if (lower || upper) {
        return cli_usage_err(me, "--lower and --upper go with --sum or --mean");
    }
    const char *catv[MAIF_DP_CATEGORIES_MAX];
    char *catbuf = NULL;
    if (q.kind == MAIF_DP_HISTOGRAM) {
        if (!cats) return cli_usage_err(me, "--histogram needs --categories A,B,... (the bins are public)");
        catbuf = strdup(cats);
        if (!catbuf) return cli_usage_err(me, "out of memory");
        for (char *p = catbuf, *tok; (tok = strsep(&p, ","));) {
            if (q.ncategories == MAIF_DP_CATEGORIES_MAX) {
                free(catbuf);
                return cli_usage_err(me, "--categories: at most %d", MAIF_DP_CATEGORIES_MAX);
            }
            catv[q.ncategories++] = tok;
        }
        q.categories = catv;
    } else if (cats) {
        return cli_usage_err(me, "--categories goes with --histogram");
    }
    if (type_s && maif_type_parse(type_s, &q.type) != MAIF_OK) {
        free(catbuf);
        return cli_usage_err(me, "unknown type '%s'", type_s);
    }
    maif_key *key = NULL;
    int ex = cli_check_file(path);
    if (!ex) ex = cli_load_key(keyfile, &key);
    if (ex) {
        free(catbuf);
        return ex;
    }
    maif_options *opt = NULL;
    int rc = cli_options_durable(&opt);
    if (!rc) rc = maif_options_set(opt, MAIF_OPT_LOCK_WAIT_MS, CLI_LOCK_WAIT_MS);
    maif_dp_result res;
    if (!rc) rc = maif_dp_query_run(path, key, opt, &q, &res);
    maif_options_free(opt);
    maif_key_free(key);
    if (rc) {
        free(catbuf);
        if (rc == MAIF_EINVAL || rc == MAIF_ESTATE) {
            cli_err(path, "%s", cli_detail(path, maif_last_errmsg()));
            return CLI_EXIT_USAGE;
        }
        if (rc == MAIF_EACCESS) {
            cli_err(path, "%s", cli_detail(path, maif_last_errmsg()));
            return CLI_EXIT_ACCESS;
        }
        return cli_fail(path, rc, maif_last_errmsg());
    }
    const char *mech = delta ? "discrete-gaussian" : "discrete-laplace";
    if (as_json) {
        json_t *d = json_object(), *vals = json_array();
        json_object_set_new(d, "query", json_string(count ? "count" : sum ? "sum" : mean ? "mean" : "histogram"));
        if (q.key) json_object_set_new(d, "key", json_string(q.key));
        for (size_t i = 0; i < res.nvalues; i++) json_array_append_new(vals, json_real(res.values[i]));
        if (q.kind == MAIF_DP_HISTOGRAM) {
            json_t *c = json_array();
            for (size_t i = 0; i < q.ncategories; i++) json_array_append_new(c, json_string(catv[i]));
            json_array_append_new(c, json_string("(other)"));
            json_object_set_new(d, "categories", c);
            json_object_set_new(d, "values", vals);
        } else {
            json_object_set_new(d, "value", json_incref(json_array_get(vals, 0)));
            json_decref(vals);
        }
        json_object_set_new(d, "mechanism", json_string(mech));
        json_object_set_new(d, "scale", json_real(res.scale));
        json_object_set_new(d, "grid", json_real(res.grid));
        json_object_set_new(d, "epsilon", json_real((double)res.epsilon_nano / 1e9));
        json_object_set_new(d, "delta", json_real((double)res.delta_atto / 1e18));
        json_object_set_new(d, "rho", json_real((double)res.rho_nano / 1e9));
        json_object_set_new(d, "spent_epsilon", json_real((double)res.spent_epsilon_nano / 1e9));
        json_object_set_new(d, "budget_epsilon", json_real((double)res.budget_epsilon_nano / 1e9));
        json_object_set_new(d, "spent_delta", json_real((double)res.spent_delta_atto / 1e18));
        json_object_set_new(d, "budget_delta", json_real((double)res.budget_delta_atto / 1e18));
        json_object_set_new(d, "ledger_block", json_integer((json_int_t)res.ledger_block));
        ex = cli_print_json(d);
        json_decref(d);
    } else {
        if (q.kind == MAIF_DP_HISTOGRAM) {
            for (size_t i = 0; i < res.nvalues; i++) {
                const char *name = i < q.ncategories ? catv[i] : "(other)";
                cli_put_clean(stdout, name, strlen(name));
                printf(": %.17g\n", res.values[i]);
            }
        } else {
            printf("%s: %.17g\n", count ? "count" : sum ? "sum" : "mean", res.values[0]);
        }
        printf("mechanism: %s, scale %.6g, grid %.6g\n", mech, res.scale, res.grid);
        printf("charged: epsilon %.9g, delta %.3g, rho %.9g; spent epsilon %.9g of %.9g, delta %.3g of %.3g; "
               "ledger block %llu\n",
               (double)res.epsilon_nano / 1e9, (double)res.delta_atto / 1e18, (double)res.rho_nano / 1e9,
               (double)res.spent_epsilon_nano / 1e9, (double)res.budget_epsilon_nano / 1e9,
               (double)res.spent_delta_atto / 1e18, (double)res.budget_delta_atto / 1e18,
               (unsigned long long)res.ledger_block);
        ex = cli_finish(CLI_EXIT_OK);
    }
    free(catbuf);
    return ex;
}

const cli_command cli_cmd_query = {
    "query", run, "differentially private aggregates over metadata",
    "usage: maif query FILE --dp-epsilon E [--dp-delta D]\n"
    "                  (--count | --sum KEY | --mean KEY | --histogram KEY --categories A,B,...)\n"
    "                  [--lower L --upper U] [--type TYPE] [--dp-budget E [--dp-budget-delta D]]\n"
    "                  [--key KEYFILE] [--json]\n"
    "\n"
    "Answers one aggregate over the metadata of FILE's blocks with differential\n"
    "privacy (neighbouring artifacts differ by one block):\n"
    "  --count          blocks (of --type TYPE if given)\n"
    "  --sum KEY        sum of the numeric metadata KEY, each value clamped to\n"
    "                   [L, U] (--lower, --upper; blocks without it add 0)\n"
    "  --mean KEY       noisy sum / noisy count of the blocks holding KEY, each at\n"
    "                   half the epsilon (or rho), clamped to [L, U]\n"
    "  --histogram KEY  counts of the string metadata KEY per category A, B, ...\n"
    "                   (public: give them; other values count as (other))\n"
    "Ledger (DPLG) and key-wrap blocks are never counted.\n"
    "\n"
    "Noise: without --dp-delta, epsilon-DP with the discrete Laplace (two-sided\n"
    "geometric) noise; with it, (epsilon, delta)-DP through rho-zCDP with the\n"
    "discrete Gaussian. Both are drawn exactly with integers from libsodium's\n"
    "randombytes; sums are computed on a power-of-two grid (printed). E is a\n"
    "decimal in [0.000001, 20], D in [1e-18, 0.01].\n"
    "\n"
    "Budget: every artifact has one privacy budget, set by the first query\n"
    "that gives --dp-budget E (and --dp-budget-delta D, default 0); it cannot\n"
    "change. Each query's epsilon and delta (and rho) are appended as a signed\n"
    "ledger block and committed BEFORE the answer is printed; a query that\n"
    "would exceed the budget is refused and records nothing. Appending needs\n"
    "the signing key (KEYFILE or the default key).\n"
    "\n"
    "Prints the answer (one line, or one per category), the mechanism with its\n"
    "scale, and what was charged and spent; --json prints {\"query\", \"key\",\n"
    "\"value\" | \"categories\" + \"values\", \"mechanism\", \"scale\", \"grid\",\n"
    "\"epsilon\", \"delta\", \"rho\", \"spent_epsilon\", \"budget_epsilon\",\n"
    "\"spent_delta\", \"budget_delta\", \"ledger_block\"}.\n"
    "\n"
    "exit codes: 0 answered; 1 FILE is too damaged to open, or a ledger block is\n"
    "malformed (queries are then refused); 2 usage error,\n"
    "missing file, bad parameter (negative, NaN, zero or huge epsilon/delta,\n"
    "bad bounds), no budget set, or a different budget given; 3 the query would\n"
    "exceed the privacy budget (nothing released).\n",
};
