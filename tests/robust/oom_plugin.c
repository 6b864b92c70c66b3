/* oom_plugin.c: the plugin in a real epan session while the tracker runs out of memory
 * (issue #16).
 *
 * usage: oom_plugin INPUT...
 *
 * INPUTs are in the format of ../fuzz/fuzz_plugin.c (fuzz.plugin.seeds writes them from
 * the bundled captures), run without re-dissections. For each, the tracker's allocation
 * calls C of a run without failures are counted, then the input is run 2C times:
 * allocation call N fails (N = 1..C), alone and with every one after it (oom_hook.h,
 * force-included into the tracker's sources of this build). Each run is fuzz_plugin.c's:
 * both passes, the taps drawn, the tap's records checked (in range, paths of the RFC 9293
 * diagram, pass 1 = pass 2), under ASan and UBSan. The plugin's own allocations are
 * GLib's and wmem's, which abort rather than fail (Wireshark's rule): not failed here.
 * Prints per input
 *   oom_plugin: INPUT: C allocation calls, R runs
 * and aborts on the first failure.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oom_hook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const char *fuzz_input_name;

static uint8_t *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 1 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len)) != NULL && fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        buf = NULL;
    }
    *n = buf ? (size_t)len : 0;
    fclose(f);
    return buf;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: oom_plugin INPUT...\n");
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        size_t n;
        uint8_t *data = read_all(argv[a], &n);
        unsigned long calls, runs = 0;
        if (!data) {
            fprintf(stderr, "oom_plugin: cannot read %s\n", argv[a]);
            return 2;
        }
        data[1] = 0; /* no re-dissection: a failure at call N happens once */
        fuzz_input_name = argv[a];
        oom_arm(0, 0);
        LLVMFuzzerTestOneInput(data, n);
        calls = oom_calls();
        for (unsigned long k = 1; k <= calls; k++) {
            for (int persist = 0; persist < 2; persist++, runs++) {
                oom_arm(k, persist);
                LLVMFuzzerTestOneInput(data, n);
            }
        }
        oom_arm(0, 0);
        printf("oom_plugin: %s: %lu allocation calls, %lu runs\n", argv[a], calls, runs);
        free(data);
    }
    return 0;
}
