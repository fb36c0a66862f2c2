/* SPDX-License-Identifier: MIT */
/*
 * Other processes and their IPC objects: every call that takes a pid or an
 * IPC key or id must act only on the sandbox's own.
 *
 *   procs host          outside the sandbox: makes a System V shared memory
 *                       segment, semaphore set and message queue and a POSIX
 *                       message queue, prints "PID SHMID SEMID MSGID MQNAME"
 *                       and waits for stdin to close, then removes them
 *   procs pid=N shm=ID sem=ID msg=ID mq=NAME
 *                       inside: tries to act on that process and those objects
 *
 * Attacks on the host process change nothing that matters if they succeed
 * (limits set to their current values, the nice value it already has), so
 * the test is safe to run where the target is a real process.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <mqueue.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "escape.h"

static int host(void)
{
	char name[64];
	int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	int msg = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	char *p, c;
	mqd_t mq;

	snprintf(name, sizeof(name), "/rf-escape-%d", getpid());
	mq = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, NULL);
	if (shm < 0 || sem < 0 || msg < 0 || mq == (mqd_t)-1) {
		perror("procs host");
		return 1;
	}
	p = shmat(shm, NULL, 0);
	if (p != (void *)-1)
		strcpy(p, "HOST-SECRET");
	printf("%d %d %d %d %s\n", getpid(), shm, sem, msg, name);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	shmctl(shm, IPC_RMID, NULL);
	semctl(sem, 0, IPC_RMID);
	msgctl(msg, IPC_RMID, NULL);
	mq_unlink(name);
	return 0;
}

static long try_shm(int id)
{
	char *p = shmat(id, NULL, 0);
	if (p == (void *)-1)
		return -1;
	printf("  read from the host's segment: %.16s\n", p);
	shmdt(p);
	return 0;
}

static long try_prlimit(pid_t pid)
{
	struct rlimit cur;
	/* set the host process's CPU limit to what it is: a write that proves
	 * RLIMIT_CPU = 0 would have killed it */
	if (syscall(SYS_prlimit64, pid, RLIMIT_CPU, NULL, &cur) < 0)
		return -1;
	return syscall(SYS_prlimit64, pid, RLIMIT_CPU, &cur, NULL);
}

static long try_affinity(pid_t pid)
{
	cpu_set_t set;
	if (sched_getaffinity(pid, sizeof(set), &set) < 0)
		return -1;
	return sched_setaffinity(pid, sizeof(set), &set);
}

static long try_priority(pid_t pid)
{
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, (id_t)pid);
	if (prio == -1 && errno)
		return -1;
	return setpriority(PRIO_PROCESS, (id_t)pid, prio);
}

static long try_robust_list(pid_t pid)
{
	void *head;
	size_t len;
	return syscall(SYS_get_robust_list, pid, &head, &len);
}

static long try_ioprio(pid_t pid)
{
	/* IOPRIO_WHO_PROCESS; the class it has (a get, then the same set) */
	long prio = syscall(SYS_ioprio_get, 1, pid);
	if (prio < 0)
		return -1;
	return syscall(SYS_ioprio_set, 1, pid, prio);
}

static long try_sched_param(pid_t pid)
{
	struct sched_param sp;
	if (sched_getparam(pid, &sp) < 0)
		return -1;
	int pol = sched_getscheduler(pid);
	if (pol < 0)
		return -1;
	return sched_setscheduler(pid, pol, &sp);
}

int main(int argc, char **argv)
{
	const char *a;

	if (argc > 1 && strcmp(argv[1], "host") == 0)
		return host();

	/* positive controls: the same calls on the caller itself work */
	struct rlimit cur;
	cpu_set_t set;
	if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &cur) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &cur) < 0 || sched_getaffinity(0, sizeof(set), &set) < 0 ||
	    setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0)) < 0) {
		printf("ESCAPED: control failed: the sandbox cannot act on itself (%s)\n",
		       strerror(errno));
		escapes++;
	} else {
		printf("ok: limits, affinity and priority of the caller itself\n");
	}

	if ((a = arg(argc, argv, "pid"))) {
		pid_t pid = atoi(a);
		ATTACK("prlimit64 on a host process", try_prlimit(pid));
		ATTACK("sched_setaffinity on a host process", try_affinity(pid));
		ATTACK("setpriority on a host process", try_priority(pid));
		ATTACK("sched_setscheduler on a host process", try_sched_param(pid));
		ATTACK("ioprio_set on a host process", try_ioprio(pid));
		ATTACK("get_robust_list of a host process", try_robust_list(pid));
		/* SIGIO (whose default action ends a process) through F_SETOWN:
		 * the test checks that the host process is still alive */
		int sp[2];
		if (pipe(sp) == 0 && fcntl(sp[0], F_SETOWN, pid) == 0 &&
		    fcntl(sp[0], F_SETFL, O_ASYNC | O_NONBLOCK) == 0 && write(sp[1], "x", 1) == 1)
			printf("tried: SIGIO to the host process through F_SETOWN\n");
		ATTACK("setpriority on the host process's group",
		       setpriority(PRIO_PGRP, (id_t)getpgid(pid),
				   getpriority(PRIO_PGRP, (id_t)getpgid(pid))));
	}
	if ((a = arg(argc, argv, "shm")))
		ATTACK("attaching the host's System V shared memory", try_shm(atoi(a)));
	if ((a = arg(argc, argv, "sem"))) {
		struct sembuf op = {.sem_num = 0, .sem_op = 1, .sem_flg = IPC_NOWAIT};
		ATTACK("operating on the host's semaphore", semop(atoi(a), &op, 1));
	}
	if ((a = arg(argc, argv, "msg")))
		ATTACK("sending to the host's message queue", msgsnd(atoi(a), &(struct {
									     long t;
									     char c;
								     }){1, 'x'},
								     1, IPC_NOWAIT));
	if ((a = arg(argc, argv, "mq")))
		ATTACK("opening the host's POSIX message queue", (long)mq_open(a, O_RDWR));

	/* the sandbox's own IPC, where it has a namespace of its own */
	if (arg(argc, argv, "own_ipc")) {
		int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
		if (id < 0) {
			printf("ESCAPED: control failed: no System V IPC of its own (%s)\n",
			       strerror(errno));
			escapes++;
		} else {
			shmctl(id, IPC_RMID, NULL);
			printf("ok: System V IPC of its own\n");
		}
	}
	ESCAPE_DONE();
}
