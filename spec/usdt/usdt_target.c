/* A process with one USDT probe, lua_libbpf:tick(i), hit once per line read
 * from stdin so the spec decides when it fires; each line also calls
 * lbpf_uprobe_tick(i), a function for uprobes by name and by an offset into
 * it (spec/uprobe_target_spec.lua): straight-line code, so each of its
 * instructions runs once per call. */
#include <stdio.h>
#include <sys/sdt.h>

__attribute__((noinline)) long lbpf_uprobe_tick(long i)
{
	volatile long x = i;

	x = x * 3 + 1;
	x ^= 0x55;
	return x;
}

int main(void)
{
	char line[64];
	long i = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	printf("ready\n");
	while (fgets(line, sizeof(line), stdin)) {
		i++;
		DTRACE_PROBE1(lua_libbpf, tick, i);
		printf("tick %ld %ld\n", i, lbpf_uprobe_tick(i));
	}
	return 0;
}
