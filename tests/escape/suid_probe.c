/* SPDX-License-Identifier: MIT */
/* Installed setuid-root by the tests: prints what exec gave it. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	char line[256];
	unsigned long long eff = 0;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "CapEff:", 7) == 0)
			sscanf(line + 7, "%llx", &eff);
	if (f)
		fclose(f);
	printf("euid=%u caps=%llx\n", geteuid(), eff);
	return 0;
}
