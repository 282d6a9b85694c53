/*
 * bench_addfile.c — prints one figure of bench/run.sh's `maif add --file`
 * measurement (timed in the shell, where the command runs as a user runs
 * it) through the common printer, so that it lands in the final table
 * with its baseline, ratio and target.
 *
 * usage: bench_addfile LABEL VALUE BASELINE_LABEL BASELINE TARGET [UNIT]
 * (UNIT defaults to MB/s.)
 */
#include <stdio.h>
#include <stdlib.h>

#include "benchutil.h"

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_addfile LABEL VALUE BASELINE_LABEL BASELINE TARGET [UNIT]\n");
        return 2;
    }
    bu_report(argv[1], atof(argv[2]), argc > 6 ? argv[6] : "MB/s", argv[3], atof(argv[4]), argv[5]);
    return 0;
}
