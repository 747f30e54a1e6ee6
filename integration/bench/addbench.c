// addbench: how long one pod's redirect rules take to program, several ways, each sample in a brand-new
// network namespace, the variants interleaved in a new random order each round with a 5 ms pause
// before every sample (so machine noise and one sample's aftermath hit all variants alike):
//   -P "LABEL|CONFIG|CNI_ARGS|LOG FRAGMENT"  the whole istio-cni ADD process, run from the node's namespace
//              as a runtime runs it (CONFIG on stdin, CNI_* env); a sample counts only if the plugin's
//              log contains LOG FRAGMENT (which names the pod source and the backend);
//   -T "LABEL|COMMAND|INPUT"                 a tool (`iptables-restore --noflush`, `nft -f -`) started
//              already inside the namespace with INPUT on stdin, which is what Istio's plugin spawns
//              after entering it.
// Prints n, failures, min/median/p90/p99/max per variant, each plugin variant's median ratio to the
// first tool variant, and the plugin's own breakdown (start-up, pod lookup, commit) from its log line.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum { MAX_VARIANTS = 16, MAX_WORDS = 8 };

struct variant {
    int plugin;
    char *label, *config_or_input, *cni_args, *fragment;
    char *command[MAX_WORDS + 1];
    double *wall, *startup, *lookup, *request, *commit, *inside;
    int count, failures;
};

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *values, int n, double q) {
    qsort(values, n, sizeof(double), compare);
    return n ? values[(int)(q * (n - 1) + 0.5)] : 0;
}

/// A new network namespace held open by a file descriptor; the caller stays in `host`.
static int new_namespace(int host) {
    if (unshare(CLONE_NEWNET) != 0) { perror("unshare"); exit(1); }
    int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(host, CLONE_NEWNET) != 0) { perror("netns"); exit(1); }
    return fd;
}

/// Runs argv with stdin from `input` and stderr into `stderr_path`; returns the exit status.
static int run(char *const argv[], char *const envp[], const char *input, const char *stderr_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    int status = -1;
    if (posix_spawnp(&pid, argv[0], &actions, NULL, argv, envp) != 0) { perror(argv[0]); exit(1); }
    posix_spawn_file_actions_destroy(&actions);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static long long field(const char *text, const char *name) {
    const char *at = strstr(text, name);
    return at ? atoll(at + strlen(name)) : -1;
}

/// Splits "A|B|C|D" in place into up to `wanted` fields.
static int split(char *text, char **fields, int wanted) {
    int n = 0;
    for (char *part = strtok(text, "|"); part && n < wanted; part = strtok(NULL, "|")) fields[n++] = part;
    return n;
}

static void sample_plugin(struct variant *v, int ns, const char *stderr_path) {
    char netns[64], args[512], command[] = "CNI_COMMAND=ADD";
    snprintf(netns, sizeof netns, "CNI_NETNS=/proc/%d/fd/%d", getpid(), ns);
    snprintf(args, sizeof args, "CNI_ARGS=%s", v->cni_args);
    char container[64];
    // A fresh sandbox per sample, as the runtime gives every pod its own container ID.
    snprintf(container, sizeof container, "CNI_CONTAINERID=bench-%lx-%d", (unsigned long)v, v->count + v->failures);
    char *envp[] = {command, container, "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
                    netns, args, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    long long start = now_us();
    int status = run(v->command, envp, v->config_or_input, stderr_path);
    long long end = now_us();
    char log[4096] = {0};
    FILE *f = fopen(stderr_path, "r");
    if (f) { size_t n = fread(log, 1, sizeof log - 1, f); log[n] = 0; fclose(f); }
    long long main_entry = field(log, "main_entry_us=");
    if (status != 0 || main_entry <= 0 || !strstr(log, v->fragment)) {
        if (v->failures++ == 0) fprintf(stderr, "%s failed (status %d): %s\n", v->label, status, log);
        return;
    }
    int i = v->count++;
    v->wall[i] = (end - start) / 1000.0;
    v->startup[i] = (main_entry - start) / 1000.0;
    v->lookup[i] = field(log, "lookup_us=") / 1000.0;
    v->request[i] = field(log, "pod_request_us=") / 1000.0;
    v->commit[i] = field(log, "commit_us=") / 1000.0;
    v->inside[i] = field(log, "total_us=") / 1000.0;
}

static void sample_tool(struct variant *v, int ns, int host, const char *stderr_path) {
    if (setns(ns, CLONE_NEWNET) != 0) { perror("setns"); exit(1); }
    long long start = now_us();
    int status = run(v->command, environ, v->config_or_input, stderr_path);
    long long end = now_us();
    if (setns(host, CLONE_NEWNET) != 0) { perror("setns"); exit(1); }
    if (status != 0) {
        if (v->failures++ == 0) fprintf(stderr, "%s failed (status %d)\n", v->label, status);
        return;
    }
    v->wall[v->count++] = (end - start) / 1000.0;
}

int main(int argc, char **argv) {
    int samples = 200, option, count = 0;
    struct variant variants[MAX_VARIANTS] = {0};
    const char *plugin = NULL;
    while ((option = getopt(argc, argv, "n:p:P:T:")) != -1) {
        if (option == 'n') { samples = atoi(optarg); continue; }
        if (option == 'p') { plugin = optarg; continue; }
        if ((option != 'P' && option != 'T') || count == MAX_VARIANTS) return 2;
        struct variant *v = &variants[count++];
        char *fields[5] = {0};
        v->plugin = option == 'P';
        int n = split(strdup(optarg), fields, 5);
        if (v->plugin ? (n != 4 && n != 5) : n != 3) { fprintf(stderr, "bad variant: %s\n", optarg); return 2; }
        v->label = fields[0];
        if (v->plugin) {
            v->config_or_input = fields[1];
            v->cni_args = fields[2];
            v->fragment = fields[3];
            // An optional fifth field names another plugin binary, for A/B runs against an older build.
            v->command[0] = fields[4];
        } else {
            int words = 0;
            for (char *word = strtok(fields[1], " "); word && words < MAX_WORDS; word = strtok(NULL, " ")) v->command[words++] = word;
            v->config_or_input = fields[2];
        }
    }
    if (!plugin || count == 0) {
        fprintf(stderr, "usage: addbench -p PLUGIN [-P \"LABEL|CONFIG|CNI_ARGS|LOG FRAGMENT[|PLUGIN]\"]... [-T \"LABEL|COMMAND|INPUT\"]... [-n N]\n");
        return 2;
    }
    for (int k = 0; k < count; k++) {
        struct variant *v = &variants[k];
        if (v->plugin && !v->command[0]) v->command[0] = (char *)plugin;
        double **series[] = {&v->wall, &v->startup, &v->lookup, &v->request, &v->commit, &v->inside};
        for (int s = 0; s < 6; s++) *series[s] = calloc(samples, sizeof(double));
    }
    int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    char stderr_path[] = "/tmp/addbench-stderr-XXXXXX";
    close(mkstemp(stderr_path));

    unsigned seed = 42;
    for (int i = 0; i < samples; i++) {
        // A new random order each round: no variant always follows the one whose background work (the
        // emulator closing a TLS connection, the agent printing a report) could still be running.
        int order[MAX_VARIANTS];
        for (int k = 0; k < count; k++) order[k] = k;
        for (int k = count - 1; k > 0; k--) {
            int j = rand_r(&seed) % (k + 1), t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < count; k++) {
            struct variant *v = &variants[order[k]];
            usleep(5000);  // pods do not start back to back; let the previous sample's aftermath settle
            int ns = new_namespace(host);
            if (v->plugin) sample_plugin(v, ns, stderr_path); else sample_tool(v, ns, host, stderr_path);
            close(ns);
        }
    }
    unlink(stderr_path);

    printf("%-42s %5s %5s %8s %8s %8s %8s %8s\n", "variant (ms, fresh netns each)", "n", "fail", "min", "median", "p90", "p99", "max");
    double baseline = 0;
    const char *baseline_label = "";
    int failed = 0;
    for (int k = 0; k < count; k++) {
        struct variant *v = &variants[k];
        int n = v->count;
        printf("%-42s %5d %5d %8.2f %8.2f %8.2f %8.2f %8.2f\n", v->label, n, v->failures, quantile(v->wall, n, 0),
               quantile(v->wall, n, 0.5), quantile(v->wall, n, 0.9), quantile(v->wall, n, 0.99), quantile(v->wall, n, 1));
        if (!v->plugin && baseline == 0) {
            baseline = quantile(v->wall, n, 0.5);
            baseline_label = v->label;
        }
        if (v->plugin && v->failures) failed = 1;
    }
    for (int k = 0; k < count; k++) {
        struct variant *v = &variants[k];
        int n = v->count;
        if (!v->plugin) continue;
        printf("\n%s, median (p99) ms: start-up %.2f (%.2f), main() to pod known %.2f (%.2f) of which the pod request %.2f (%.2f), "
               "netns + commit %.2f (%.2f), main() to done %.2f (%.2f)\n", v->label,
               quantile(v->startup, n, 0.5), quantile(v->startup, n, 0.99), quantile(v->lookup, n, 0.5), quantile(v->lookup, n, 0.99),
               quantile(v->request, n, 0.5), quantile(v->request, n, 0.99), quantile(v->commit, n, 0.5), quantile(v->commit, n, 0.99),
               quantile(v->inside, n, 0.5), quantile(v->inside, n, 0.99));
        printf("ratio to %s (medians): %.2f\n", baseline_label, baseline > 0 ? quantile(v->wall, n, 0.5) / baseline : 0);
    }
    return failed;
}
