/* equiv_cmp.c: runs two tcps_dump builds on the same arguments and compares
 * their outputs byte for byte, as they stream (a dump of millions of
 * segments is never stored).
 *
 * usage: equiv_cmp [--label-a NAME] [--label-b NAME] [--context N] [--timeout SECONDS]
 *                  DUMP_A DUMP_B -- ARGS...
 *
 * Both dumps run at once, each as DUMP ARGS...; their standard outputs are
 * read line by line. At the first line that differs it prints the input and
 * the pass (configuration) it belongs to, the last identical lines, the
 * differing line and the N (default 8) lines after it from each side, and a
 * command that shows the segments of that input; it then stops both dumps
 * (SIGTERM to the two children it started) and exits 1; likewise when the
 * dumps take longer than --timeout (default: no limit), with the input and
 * pass they were at. Exits 0 when the
 * outputs are identical, the dumps ended ("== end" line) and exited alike
 * (a warning when both found an unreadable input); 1 when anything differs or
 * a dump failed; 2 on a usage error.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CTX 3 /* identical lines shown before the first difference */

typedef struct side {
    const char *label, *prog;
    pid_t pid;
    FILE *f;
    char *line;
    size_t cap;
    ssize_t len; /* of line; -1 at the end */
    int status;
} side;

typedef struct ctx {
    char *input, *pass;        /* the last "== input" and "== pass" lines */
    char *last[CTX];           /* the last identical lines, a ring */
    unsigned long long lineno; /* of the current line, from 1 */
    unsigned long long bytes;  /* identical bytes before it */
} ctx;

static int spawn(side *s, char **args)
{
    int fd[2];
    if (pipe(fd) != 0)
        return -1;
    s->pid = fork();
    if (s->pid < 0)
        return -1;
    if (s->pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        args[0] = (char *)s->prog;
        execv(s->prog, args);
        fprintf(stderr, "equiv_cmp: cannot run %s: %s\n", s->prog, strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    s->f = fdopen(fd[0], "r");
    return s->f ? 0 : -1;
}

static void next_line(side *s)
{
    s->len = getline(&s->line, &s->cap, s->f);
}

static void finish(side *s, int stop)
{
    if (stop && s->pid > 0)
        kill(s->pid, SIGTERM);
    if (s->f)
        fclose(s->f);
    s->status = -1;
    if (s->pid > 0 && waitpid(s->pid, &s->status, 0) < 0)
        s->status = -1;
}

static void keep(char **slot, const char *line)
{
    free(*slot);
    *slot = strdup(line);
}

static void show(const char *tag, const char *line)
{
    if (line)
        printf("  %s %s%s", tag, line, line[0] && line[strlen(line) - 1] == '\n' ? "" : "\n");
}

/* A command that shows the segments of the differing input and pass. */
static void hint(const ctx *c, const char *prog)
{
    if (!c->input || !c->pass)
        return;
    const char *name = c->input + 9, *pass = c->pass + 8;
    int nl = (int)(strrchr(name, '(') ? strrchr(name, '(') - name - 1 : 0);
    int pl = (int)strcspn(pass, " \n");
    unsigned long long n, seed;
    printf("to see the segments: %s --segments --passes %.*s ", prog, pl, pass);
    if (sscanf(name, "random:%llu:%llu", &n, &seed) == 2)
        printf("--random %llu %llu\n", n, seed);
    else
        printf("%s%.*s\n", strstr(name, "(fuzz)") ? "--fuzz " : "", nl, name);
}

/* The report of the first difference. */
static void report(ctx *c, side *a, side *b, int more)
{
    printf("DIFFERENT at line %llu (after %llu identical bytes)\n", c->lineno, c->bytes);
    printf("  input: %s", c->input ? c->input + 9 : "(before the first input)\n");
    printf("  pass:  %s", c->pass ? c->pass + 8 : "(before the first pass)\n");
    printf("identical lines before it:\n");
    for (unsigned k = 0; k < CTX; k++)
        show(" ", c->last[(c->lineno + k) % CTX]);
    side *s2[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        side *s = s2[k];
        printf("%s (%s):\n", s->label, s->prog);
        for (int j = 0; j <= more && s->len >= 0; j++, next_line(s))
            show(j ? " " : ">", s->line);
        if (s->len < 0)
            printf("  (end of output)\n");
    }
    hint(c, a->prog);
}

static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
}

/* Compares the two outputs; 0 when identical. */
static int compare(side *a, side *b, int more, ctx *c)
{
    for (;;) {
        next_line(a);
        next_line(b);
        c->lineno++;
        if (timed_out) {
            printf("TIMEOUT at line %llu: %s %s, %s %s\n", c->lineno, a->label,
                   a->len < 0 ? "gave no line" : "gave a line", b->label,
                   b->len < 0 ? "gave no line" : "gave a line");
            printf("  input: %s", c->input ? c->input + 9 : "(before the first input)\n");
            printf("  pass:  %s", c->pass ? c->pass + 8 : "(before the first pass)\n");
            return 1;
        }
        if (a->len < 0 && b->len < 0)
            return 0;
        if (a->len != b->len || memcmp(a->line, b->line, (size_t)a->len) != 0) {
            report(c, a, b, more);
            return 1;
        }
        if (!strncmp(a->line, "== input ", 9))
            keep(&c->input, a->line);
        else if (!strncmp(a->line, "== pass ", 8))
            keep(&c->pass, a->line);
        keep(&c->last[c->lineno % CTX], a->line);
        c->bytes += (unsigned long long)a->len;
    }
}

static const char *status_text(int st, char *buf, size_t n)
{
    if (st == -1)
        snprintf(buf, n, "unknown");
    else if (WIFEXITED(st))
        snprintf(buf, n, "exit %d", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(st));
    else
        snprintf(buf, n, "status %d", st);
    return buf;
}

/* After identical outputs: both dumps must have ended and exited alike. */
static int check_end(const ctx *c, const side *a, const side *b, double secs)
{
    char sa[64], sb[64];
    const char *last = c->last[(c->lineno - 1) % CTX];
    if (a->status != b->status || !WIFEXITED(a->status) || WEXITSTATUS(a->status) > 1) {
        printf("DUMP FAILED: %s %s, %s %s\n", a->label, status_text(a->status, sa, sizeof(sa)),
               b->label, status_text(b->status, sb, sizeof(sb)));
        return 1;
    }
    if (!last || strncmp(last, "== end", 6) != 0) {
        printf("DUMP INCOMPLETE: the identical outputs lack the final \"== end\" line\n");
        return 1;
    }
    printf("IDENTICAL: %llu lines, %llu bytes, %.1f s (%.*s)\n", c->lineno - 1, c->bytes, secs,
           (int)strcspn(last + 3, "\n"), last + 3);
    if (WEXITSTATUS(a->status) == 1)
        printf("warning: some inputs could not be read entirely, alike in both (see above)\n");
    return 0;
}

static int usage(void)
{
    fprintf(stderr, "usage: equiv_cmp [--label-a NAME] [--label-b NAME] [--context N] "
                    "[--timeout SECONDS] DUMP_A DUMP_B -- ARGS...\n");
    return 2;
}

int main(int argc, char **argv)
{
    side a = {"A", NULL, 0, NULL, NULL, 0, 0, -1}, b = {"B", NULL, 0, NULL, NULL, 0, 0, -1};
    int more = 8, i = 1;
    unsigned timeout = 0;
    for (; i + 1 < argc && !strncmp(argv[i], "--", 2) && strcmp(argv[i], "--"); i += 2) {
        if (!strcmp(argv[i], "--label-a"))
            a.label = argv[i + 1];
        else if (!strcmp(argv[i], "--label-b"))
            b.label = argv[i + 1];
        else if (!strcmp(argv[i], "--context"))
            more = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--timeout"))
            timeout = (unsigned)atoi(argv[i + 1]);
        else
            return usage();
    }
    if (i + 3 > argc || strcmp(argv[i + 2], "--") != 0)
        return usage();
    a.prog = argv[i];
    b.prog = argv[i + 1];
    char **args = argv + i + 2; /* args[0] becomes the program */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm; /* no SA_RESTART: a blocked read returns */
    sigaction(SIGALRM, &sa, NULL);
    alarm(timeout);
    if (spawn(&a, args) != 0 || spawn(&b, args) != 0) {
        fprintf(stderr, "equiv_cmp: cannot start the dumps: %s\n", strerror(errno));
        return 1;
    }
    ctx c;
    memset(&c, 0, sizeof(c));
    fflush(stdout);
    int diff = compare(&a, &b, more, &c);
    finish(&a, diff);
    finish(&b, diff);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    int rc = diff ? 1 : check_end(&c, &a, &b, secs);
    free(a.line);
    free(b.line);
    free(c.input);
    free(c.pass);
    for (int k = 0; k < CTX; k++)
        free(c.last[k]);
    return rc;
}
