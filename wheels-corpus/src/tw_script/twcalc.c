/* twcalc: an ELF program shipped as a wheel script (<name>.data/scripts/twcalc) that
 * needs the private libtwdemo.so.1. An RPATH cannot reach <name>.libs from the
 * environment's bin/, so repair moves it to <name>.scripts/ behind a Python shim. */
#include <stdio.h>
#include <stdlib.h>

int twdemo_mul(int a, int b);

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: twcalc A B\n");
        return 2;
    }
    printf("%d\n", twdemo_mul(atoi(argv[1]), atoi(argv[2])));
    return 0;
}
