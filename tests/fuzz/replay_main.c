/* replay_main.c: runs the fuzz target over a corpus without libFuzzer, so the
 * corpus is a plain ctest under any compiler (as Suricata's
 * src/tests/fuzz/onefile.c).
 *
 *   fuzz_replay FILE_OR_DIR...
 *
 * Each file (each regular file of a folder, in name order) is one input. A
 * failed invariant aborts with the input's name on stderr. Prints the number
 * of inputs and segments replayed (segments: 0 with FUZZ_REPLAY_NO_SEGMENTS,
 * for another input format); exits 1 if an argument cannot be read or no
 * input was found (an empty corpus would pass silently).
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern const char *fuzz_input_name;

static size_t n_inputs, n_bytes, n_records;

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *nb = realloc(buf, cap * 2);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        fprintf(stderr, "%s: read error\n", path);
        free(buf);
        return -1;
    }
    fuzz_input_name = path;
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    n_inputs++;
    n_bytes += len;
#ifndef FUZZ_REPLAY_NO_SEGMENTS
    n_records += len >= 4 ? (len - 4) / 20 : 0; /* fuzz_tracker.c: header 4, records 20 */
#endif
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        perror(dir);
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        size_t l = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(l);
        if (!names[n]) {
            rc = -1;
            break;
        }
        snprintf(names[n], l, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) < 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    int rc = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            rc = 1;
        } else if (S_ISDIR(st.st_mode) ? run_dir(argv[i]) < 0 : run_file(argv[i]) < 0) {
            rc = 1;
        }
    }
    printf("fuzz_replay: %zu inputs, %zu bytes, %zu segments replayed without failure\n",
           n_inputs, n_bytes, n_records);
    if (n_inputs == 0) {
        fprintf(stderr, "fuzz_replay: no input found\n");
        rc = 1;
    }
    return rc;
}
