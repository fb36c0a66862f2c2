/* SPDX-License-Identifier: MIT */
/*
 * connect(2) and close(2) of a TCP socket, N times, to ADDR:PORT: the time
 * one takes, for bench/connect.sh.  Inside ringfence every connect of the
 * command is a seccomp notification the supervisor answers (the connect
 * broker, or transparent capture in the sandbox's own network namespace);
 * run on the host, to a listener, it is the kernel's cost alone.
 *
 *   connect ADDR PORT N      prints "us per connect"
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	struct timespec t0, t1;
	int n;

	if (argc != 4 || inet_pton(AF_INET, argv[1], &a.sin_addr) != 1)
		return 2;
	a.sin_port = htons((uint16_t)atoi(argv[2]));
	n = atoi(argv[3]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
			perror("connect");
			return 1;
		}
		close(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.1f\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / n /
		   1e3);
	return 0;
}
