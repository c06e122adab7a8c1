/*
 * The same floor as socket-floor.mjs without Node: one thread writes 620 bytes to each of N loopback TCP
 * sockets (a forked reader holds the other ends). Shows what the kernel alone costs per write here.
 * Usage: cc -O2 -o /tmp/socket-floor bench/socket-floor.c && /tmp/socket-floor 9000
 * (N + N descriptors must fit the open-files limit: `ulimit -n`.)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 9000;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096) || getsockname(ls, (struct sockaddr *)&a, &len)) {
    perror("listen");
    return 1;
  }
  pid_t reader = fork();
  if (reader == 0) {
    int *c = malloc(n * sizeof(int));
    for (int i = 0; i < n; i++) {
      c[i] = socket(AF_INET, SOCK_STREAM, 0);
      if (connect(c[i], (struct sockaddr *)&a, sizeof a)) {
        perror("connect");
        exit(1);
      }
    }
    char buf[2048];
    for (;;) {
      for (int i = 0; i < n; i++) recv(c[i], buf, sizeof buf, MSG_DONTWAIT);
      usleep(1000);
    }
  }
  int *s = malloc(n * sizeof(int));
  for (int i = 0; i < n; i++) {
    s[i] = accept(ls, 0, 0);
    int one = 1;
    setsockopt(s[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  char payload[620];
  memset(payload, 'x', sizeof payload);
  for (int round = 0; round < 5; round++) {
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
      if (write(s[i], payload, sizeof payload) != (ssize_t)sizeof payload) perror("write");
    }
    double ms = now_ms() - t0;
    printf("%d writes of %zu bytes: %.1f ms (%.1f us each)\n", n, sizeof payload, ms, ms * 1000 / n);
    usleep(300000);
  }
  kill(reader, SIGKILL);
  waitpid(reader, 0, 0);
  return 0;
}
