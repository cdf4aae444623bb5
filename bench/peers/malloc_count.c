// SPDX-License-Identifier: BSL-1.0
// libeyeballs-malloc-count.so — an LD_PRELOAD shim that counts heap
// allocations (malloc, calloc, realloc, aligned_alloc, posix_memalign,
// memalign, valloc, pvalloc; operator new goes through malloc) made by one
// process, for bench/peers/counts.py. Not a benchmark and not a test helper:
// it only counts.
//
//   EYEBALLS_MALLOC_COUNT_OUT=FILE LD_PRELOAD=.../libeyeballs-malloc-count.so CMD
//
// At exit the process that was started (not a child it forks: a forked child
// inherits the count, and eyeballs-bench forks its world) appends one line,
// "allocations N", to FILE. Allocation goes to glibc's own entry points
// (__libc_malloc and the others), so no dlsym() is needed and nothing
// recurses. free() is not wrapped: it is not counted.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t n, size_t size);
extern void* __libc_realloc(void* p, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);
extern void* __libc_valloc(size_t size);
extern void* __libc_pvalloc(size_t size);

static atomic_ulong allocations;
static pid_t started_pid;

#define COUNT() atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed)

void* malloc(size_t size) {
    COUNT();
    return __libc_malloc(size);
}

void* calloc(size_t n, size_t size) {
    COUNT();
    return __libc_calloc(n, size);
}

void* realloc(void* p, size_t size) {
    COUNT();
    return __libc_realloc(p, size);
}

void* memalign(size_t alignment, size_t size) {
    COUNT();
    return __libc_memalign(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
    COUNT();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
    COUNT();
    if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return 22;  // EINVAL
    void* p = __libc_memalign(alignment, size);
    if (p == NULL && size != 0) return 12;  // ENOMEM
    *out = p;
    return 0;
}

void* valloc(size_t size) {
    COUNT();
    return __libc_valloc(size);
}

void* pvalloc(size_t size) {
    COUNT();
    return __libc_pvalloc(size);
}

__attribute__((constructor)) static void malloc_count_start(void) { started_pid = getpid(); }

__attribute__((destructor)) static void malloc_count_report(void) {
    const char* path = getenv("EYEBALLS_MALLOC_COUNT_OUT");
    if (path == NULL || getpid() != started_pid) return;
    const int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[64];
    const int len = snprintf(line, sizeof line, "allocations %lu\n",
                             atomic_load_explicit(&allocations, memory_order_relaxed));
    if (len > 0) {
        ssize_t ignored = write(fd, line, (size_t)len);
        (void)ignored;
    }
    close(fd);
}
