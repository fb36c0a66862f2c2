/* SPDX-License-Identifier: MIT */
/*
 * A threaded client, the positive control for the connect broker: under
 * isolation = broker every connect(2) stops in the supervisor, which must
 * serve the calling thread whatever it is (not only a thread group leader).
 *
 *   threads URL_HOST PATH N
 *
 * N threads (none of them the main one) each connect to the proxy named by
 * $HTTP_PROXY and GET http://URL_HOST/PATH through it; each prints
 * "thread K: STATUS-LINE" and the program exits 0 when every thread got an
 * HTTP 200.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_THREADS 32

static struct sockaddr_in proxy;
static const char *host, *path;

struct job {
	int k;
	char line[256];
	int ok;
};

static void *run(void *arg)
{
	struct job *j = arg;
	char req[512], buf[4096];
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&proxy, sizeof(proxy)) < 0) {
		snprintf(j->line, sizeof(j->line), "connect from thread %ld: %s",
			 (long)syscall(SYS_gettid), strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	snprintf(req, sizeof(req),
		 "GET http://%s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", host, path,
		 host);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		snprintf(j->line, sizeof(j->line), "write: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(j->line, sizeof(j->line), "%.200s", buf);
	j->ok = strncmp(buf, "HTTP/1.1 200 ", 13) == 0;
	return NULL;
}

int main(int argc, char **argv)
{
	const char *env = getenv("HTTP_PROXY");
	const char *hp, *colon;
	char addr[64];
	pthread_t t[MAX_THREADS];
	struct job jobs[MAX_THREADS];
	int n, failed = 0;

	if (argc != 4 || !env || !(hp = strstr(env, "//")) || !(colon = strrchr(hp, ':'))) {
		fprintf(stderr, "usage: HTTP_PROXY=http://ADDR:PORT threads HOST PATH N\n");
		return 2;
	}
	host = argv[1];
	path = argv[2];
	n = atoi(argv[3]);
	if (n < 1 || n > MAX_THREADS || (size_t)(colon - hp - 2) >= sizeof(addr))
		return 2;
	snprintf(addr, sizeof(addr), "%.*s", (int)(colon - hp - 2), hp + 2);
	proxy.sin_family = AF_INET;
	proxy.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, addr, &proxy.sin_addr) != 1)
		return 2;
	for (int k = 0; k < n; k++) {
		jobs[k] = (struct job){.k = k};
		if (pthread_create(&t[k], NULL, run, &jobs[k]) != 0)
			return 2;
	}
	for (int k = 0; k < n; k++) {
		pthread_join(t[k], NULL);
		printf("thread %d: %s\n", k, jobs[k].line);
		failed += !jobs[k].ok;
	}
	return failed ? 1 : 0;
}
