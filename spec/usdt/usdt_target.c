/* A process with one USDT probe, lua_libbpf:tick(i), hit once per line read
 * from stdin so the spec decides when it fires. */
#include <stdio.h>
#include <sys/sdt.h>

int main(void)
{
	char line[64];
	long i = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		i++;
		DTRACE_PROBE1(lua_libbpf, tick, i);
		printf("tick %ld\n", i);
	}
	return 0;
}
