/* The device's own ceiling, without tokalign: spin MODE ITERATIONS runs one loop and prints its
 * wall seconds. Mode 0: compute only (a xorshift chain); 1: random reads over 2 MiB (an L2's
 * size, like the word table); 2: random reads over 64 MiB (memory latency). Built static by
 * bench/device/prepare.sh (the device may have no compiler); run by machine_job.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: spin MODE ITERATIONS\n");
    return 2;
  }
  const int mode = atoi(argv[1]);
  const long iters = atol(argv[2]);
  uint64_t x = 88172645463325252ull, acc = 0;
  const size_t n = (mode == 1 ? (size_t)2 << 20 : (size_t)64 << 20) / 8;
  uint64_t* table = NULL;
  if (mode != 0) {
    table = malloc(n * 8);
    if (!table) return 1;
    for (size_t i = 0; i < n; ++i) table[i] = i * 0x9E3779B97F4A7C15ull;
  }
  const double t0 = now();
  for (long i = 0; i < iters; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    acc += mode == 0 ? x * 0x9E3779B97F4A7C15ull : table[(x + acc) % n];
  }
  printf("%.4f %llu\n", now() - t0, (unsigned long long)(acc & 1));
  free(table);
  return 0;
}
