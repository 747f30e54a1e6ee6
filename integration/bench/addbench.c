// addbench: how long one pod's redirect rules take to program, three ways, each sample in a brand-new
// network namespace, the variants interleaved in a new random order each round with a 5 ms pause
// before every sample (so machine noise and one sample's aftermath hit all variants alike):
//   plugin   - the whole istio-cni ADD process, run from the node's namespace as a runtime runs it
//              (config on stdin, CNI_* env), twice: the pod fetched from the API emulator over TLS
//              (-c CONFIG), and from the install-cni agent's pod cache over its Unix socket (-C CONFIG);
//   restore  - `iptables-restore --noflush` (and legacy) of the same rules, started already inside the
//              namespace, which is what Istio's plugin spawns after entering it;
//   nft      - `nft -f` of the same rules as an inet table script, also pre-entered.
// Prints n, failures, min/median/p90/p99/max per variant, the plugin/iptables-restore median ratios, and
// the plugin's own breakdown (start-up, pod lookup, commit) parsed from its log line. A plugin sample
// whose log does not name the expected pod source counts as a failure.
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

enum { PLUGIN, PLUGIN_CACHED, RESTORE, RESTORE_LEGACY, NFT, VARIANTS };
static const char *variant_names[VARIANTS] = {"plugin ADD, pod from the API (TLS)", "plugin ADD, pod from the agent cache",
                                              "iptables-restore --noflush", "iptables-legacy-restore --noflush", "nft -f"};

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(double *sorted, int n, double q) {
    return n ? sorted[(int)(q * (n - 1) + 0.5)] : 0;
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

int main(int argc, char **argv) {
    int samples = 200, option;
    const char *plugin = NULL, *config = NULL, *cached_config = NULL, *cni_args = NULL, *iptables_rules = NULL, *nft_rules = NULL,
               *raw_path = NULL;
    while ((option = getopt(argc, argv, "n:p:c:C:a:i:f:o:")) != -1) {
        switch (option) {
        case 'n': samples = atoi(optarg); break;
        case 'p': plugin = optarg; break;
        case 'c': config = optarg; break;
        case 'C': cached_config = optarg; break;
        case 'a': cni_args = optarg; break;
        case 'i': iptables_rules = optarg; break;
        case 'f': nft_rules = optarg; break;
        case 'o': raw_path = optarg; break;
        default: return 2;
        }
    }
    if (!plugin || !config || !cached_config || !cni_args || !iptables_rules || !nft_rules) {
        fprintf(stderr, "usage: addbench -p PLUGIN -c CONFIG.json -C CACHED-CONFIG.json -a CNI_ARGS -i RULES.iptables -f RULES.nft [-n N] [-o RAW.tsv]\n");
        return 2;
    }
    int host = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    char stderr_path[] = "/tmp/addbench-stderr-XXXXXX";
    close(mkstemp(stderr_path));
    // Per plugin variant: start-up, main() to pod known, the pod request itself, commit, main() to done.
    double *wall[VARIANTS], *startup[2], *lookup[2], *request[2], *commit[2], *inside[2];
    int count[VARIANTS] = {0}, failures[VARIANTS] = {0};
    for (int v = 0; v < VARIANTS; v++) wall[v] = calloc(samples, sizeof(double));
    for (int p = 0; p < 2; p++) {
        startup[p] = calloc(samples, sizeof(double));
        lookup[p] = calloc(samples, sizeof(double));
        request[p] = calloc(samples, sizeof(double));
        commit[p] = calloc(samples, sizeof(double));
        inside[p] = calloc(samples, sizeof(double));
    }
    FILE *raw = raw_path ? fopen(raw_path, "w") : NULL;

    unsigned seed = 42;
    for (int i = 0; i < samples; i++) {
        // A new random order each round: no variant always follows the one whose background work (the
        // emulator closing a TLS connection, the agent printing a report) could still be running.
        int order[VARIANTS];
        for (int k = 0; k < VARIANTS; k++) order[k] = k;
        for (int k = VARIANTS - 1; k > 0; k--) {
            int j = rand_r(&seed) % (k + 1), t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
        for (int k = 0; k < VARIANTS; k++) {
            int v = order[k];
            usleep(5000);  // pods do not start back to back; let the previous sample's aftermath settle
            int ns = new_namespace(host);
            long long start, end;
            int status;
            if (v == PLUGIN || v == PLUGIN_CACHED) {
                char netns[64], args[512], command[] = "CNI_COMMAND=ADD";
                snprintf(netns, sizeof netns, "CNI_NETNS=/proc/%d/fd/%d", getpid(), ns);
                snprintf(args, sizeof args, "CNI_ARGS=%s", cni_args);
                char *envp[] = {command, "CNI_CONTAINERID=bench0123456789", "CNI_IFNAME=eth0", "CNI_PATH=/usr/lib/cni",
                                netns, args, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
                char *plugin_argv[] = {(char *)plugin, NULL};
                start = now_us();
                status = run(plugin_argv, envp, v == PLUGIN ? config : cached_config, stderr_path);
                end = now_us();
                char log[4096] = {0};
                FILE *f = fopen(stderr_path, "r");
                if (f) { size_t n = fread(log, 1, sizeof log - 1, f); log[n] = 0; fclose(f); }
                long long main_entry = field(log, "main_entry_us="), lookup_us = field(log, "lookup_us="),
                          commit_us = field(log, "commit_us="), total_us = field(log, "total_us="),
                          request_us = field(log, "pod_request_us=");
                const char *source = v == PLUGIN ? "pod from the API server" : "pod from the node agent's cache";
                if (status == 0 && main_entry > 0 && strstr(log, source)) {
                    startup[v][count[v]] = (main_entry - start) / 1000.0;
                    lookup[v][count[v]] = lookup_us / 1000.0;
                    request[v][count[v]] = request_us / 1000.0;
                    commit[v][count[v]] = commit_us / 1000.0;
                    inside[v][count[v]] = total_us / 1000.0;
                } else {
                    if (failures[v] == 0) fprintf(stderr, "plugin failed (status %d): %s\n", status, log);
                    status = status ? status : 1;
                }
            } else {
                char *restore_argv[] = {v == RESTORE ? "iptables-restore" : "iptables-legacy-restore", "--noflush", NULL};
                char *nft_argv[] = {"nft", "-f", (char *)nft_rules, NULL};
                if (setns(ns, CLONE_NEWNET) != 0) { perror("setns"); return 1; }
                start = now_us();
                status = run(v == NFT ? nft_argv : restore_argv, environ, v == NFT ? "/dev/null" : iptables_rules, stderr_path);
                end = now_us();
                if (setns(host, CLONE_NEWNET) != 0) { perror("setns"); return 1; }
            }
            close(ns);
            if (status != 0) { failures[v]++; continue; }
            wall[v][count[v]++] = (end - start) / 1000.0;
            if (raw) fprintf(raw, "%s\t%.4f\n", variant_names[v], (end - start) / 1000.0);
        }
    }
    unlink(stderr_path);
    if (raw) fclose(raw);

    printf("%-36s %5s %5s %8s %8s %8s %8s %8s\n", "variant (ms, fresh netns each)", "n", "fail", "min", "median", "p90", "p99", "max");
    for (int v = 0; v < VARIANTS; v++) {
        qsort(wall[v], count[v], sizeof(double), compare);
        printf("%-36s %5d %5d %8.2f %8.2f %8.2f %8.2f %8.2f\n", variant_names[v], count[v], failures[v],
               quantile(wall[v], count[v], 0), quantile(wall[v], count[v], 0.5), quantile(wall[v], count[v], 0.9),
               quantile(wall[v], count[v], 0.99), quantile(wall[v], count[v], 1));
    }
    double restore = quantile(wall[RESTORE], count[RESTORE], 0.5);
    for (int p = 0; p < 2; p++) {
        int n = count[p];
        qsort(startup[p], n, sizeof(double), compare);
        qsort(lookup[p], n, sizeof(double), compare);
        qsort(request[p], n, sizeof(double), compare);
        qsort(commit[p], n, sizeof(double), compare);
        qsort(inside[p], n, sizeof(double), compare);
        printf("\n%s, median (p99) ms: start-up %.2f (%.2f), main() to pod known %.2f (%.2f) of which the pod request %.2f (%.2f), "
               "netns + nftables commit %.2f (%.2f), main() to done %.2f (%.2f)\n", variant_names[p],
               quantile(startup[p], n, 0.5), quantile(startup[p], n, 0.99), quantile(lookup[p], n, 0.5), quantile(lookup[p], n, 0.99),
               quantile(request[p], n, 0.5), quantile(request[p], n, 0.99),
               quantile(commit[p], n, 0.5), quantile(commit[p], n, 0.99), quantile(inside[p], n, 0.5), quantile(inside[p], n, 0.99));
        printf("ratio to iptables-restore (medians): %.2f\n", restore > 0 ? quantile(wall[p], n, 0.5) / restore : 0);
    }
    return failures[PLUGIN] || failures[PLUGIN_CACHED] ? 1 : 0;
}
