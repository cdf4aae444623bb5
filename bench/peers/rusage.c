/* SPDX-License-Identifier: BSL-1.0 */
/* eyeballs-bench-rusage — runs a command and reports its CPU time and peak
 * RSS, for the clients that are a process per race (curl).
 *
 *   eyeballs-bench-rusage CMD [ARG...]
 *
 * The command's stdout and stderr pass through; then one line on stderr:
 * "rusage USER_US SYS_US MAXRSS_KIB EXIT". Why not wait4() from the Python
 * harness: Linux keeps ru_maxrss across fork and execve (a child starts with
 * its parent's high-water mark), so a child of a 16 MiB Python process
 * reports at least 16 MiB. This launcher is small, so its child's figure is
 * the command's own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char** argv) {
    pid_t pid;
    int status = 0;
    struct rusage ru;
    if (argc < 2) {
        fprintf(stderr, "usage: eyeballs-bench-rusage CMD [ARG...]\n");
        return 2;
    }
    pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0) return 1;
    fprintf(stderr, "rusage %ld %ld %ld %d\n",
            (long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
