// The floor under every whole-file command: how long it takes only to map a set of files and
// read every byte of them once, on N threads, with nothing computed but an XOR (AVX-512 loads
// where the compiler targets them, else whatever -O2 makes of the loop). `status` must read one
// copy, `compare` of three copies three: docs/performance.md compares both with this.
//
//   gcc -O2 -march=native -pthread scripts/bench/read-floor.c -o /tmp/read-floor
//   /tmp/read-floor THREADS FILE...        (put the files in a known cache state first:
//                                           scripts/bench/cache.py)
//
// Prints map (MAP_POPULATE), read and unmap times and the read rate. The bytes are split into
// THREADS equal shares in file order, each read by one thread.
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_FILES 16
#define MAX_THREADS 16

struct segment {
    const uint64_t *p;
    size_t words;
};

struct share {
    struct segment seg[MAX_FILES];
    int n;
    uint64_t sum;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *reader(void *arg) {
    struct share *s = arg;
    uint64_t acc[8] = {0};
    for (int k = 0; k < s->n; k++) {
        const uint64_t *p = s->seg[k].p;
        size_t n = s->seg[k].words / 8 * 8;
        for (size_t i = 0; i < n; i += 8)
            for (int j = 0; j < 8; j++) acc[j] ^= p[i + j];
    }
    for (int j = 0; j < 8; j++) s->sum ^= acc[j];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s THREADS FILE...\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    int files = argc - 2;
    if (threads < 1 || threads > MAX_THREADS || files > MAX_FILES) {
        fprintf(stderr, "1..%d threads, at most %d files\n", MAX_THREADS, MAX_FILES);
        return 2;
    }
    char *map[MAX_FILES];
    size_t len[MAX_FILES], total = 0;
    double t0 = now();
    for (int i = 0; i < files; i++) {
        int fd = open(argv[i + 2], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            perror(argv[i + 2]);
            return 1;
        }
        len[i] = (size_t)st.st_size;
        map[i] = mmap(NULL, len[i], PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (map[i] == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        close(fd);
        total += len[i];
    }
    double t1 = now();
    // Thread t reads bytes [t * total / threads, (t + 1) * total / threads) of the files laid
    // end to end, in 8-byte words.
    struct share share[MAX_THREADS] = {0};
    for (int t = 0; t < threads; t++) {
        size_t from = total / threads * t, to = t + 1 == threads ? total : total / threads * (t + 1);
        size_t base = 0;
        for (int i = 0; i < files; i++) {
            size_t a = from > base ? from : base, b = to < base + len[i] ? to : base + len[i];
            if (a < b) {
                size_t start = (a - base + 7) / 8 * 8;
                if (start < b - base) {
                    struct segment *s = &share[t].seg[share[t].n++];
                    s->p = (const uint64_t *)(map[i] + start);
                    s->words = (b - base - start) / 8;
                }
            }
            base += len[i];
        }
    }
    pthread_t th[MAX_THREADS];
    for (int t = 0; t < threads; t++) pthread_create(&th[t], NULL, reader, &share[t]);
    uint64_t sum = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(th[t], NULL);
        sum ^= share[t].sum;
    }
    double t2 = now();
    for (int i = 0; i < files; i++) munmap(map[i], len[i]);
    double t3 = now();
    printf("%d file(s), %.2f GB, %d thread(s): map %.1f ms, read %.1f ms (%.1f GB/s), unmap %.1f ms, "
           "all %.1f ms (xor %02x)\n",
           files, total / 1e9, threads, (t1 - t0) * 1e3, (t2 - t1) * 1e3, total / (t2 - t1) / 1e9,
           (t3 - t2) * 1e3, (t3 - t0) * 1e3, (unsigned)(sum & 0xff));
    return 0;
}
